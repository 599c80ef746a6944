"""ember's pytest plugin (registered under ``pytest11``): filled in by the plugin authors' kit."""
