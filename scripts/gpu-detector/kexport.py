"""cont3b (Keras) -> .devrun/init/{config.json, weights.npz} by layer name, for the torch trainer."""
import json, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, ".")
from convert.detector.model import build
m = build((192, 320), 3, 1.0)
m.load_weights(sys.argv[1])
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
(out / "config.json").write_text(json.dumps(m.get_config()))
w = {}
for layer in m.layers:
    for i, a in enumerate(layer.get_weights()):
        w[f"{layer.name}:{i}"] = a
np.savez(out / "weights.npz", **w)
# a probe for the torch check: 4 inputs and the Keras outputs (inference mode)
x = np.random.default_rng(0).random((4, 192, 320, 3)).astype(np.float32)
np.savez(out / "probe.npz", x=x, y=np.asarray(m(x, training=False)))
print(len(m.layers), "layers", len(w), "arrays")
