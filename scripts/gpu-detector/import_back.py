"""GPU weights (Keras layout, by layer name) -> build/detector/NAME: BatchNorm statistics recomputed on this
machine's training stream (whole views, as train.train does), final.weights.h5 + train_config.json."""
import json, sys
from dataclasses import asdict
from pathlib import Path
import numpy as np
sys.path.insert(0, ".")
from convert.detector import data as ddata
from convert.detector.model import build
from convert.detector.train import Stream, TrainConfig, recompute_bn

npz, info_p, work, init = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
info = json.loads(info_p.read_text())
args = info["args"]
cfg = TrainConfig(steps=info["steps_done"], batch=int(args["batch"]), lr=float(args["lr"]), composites=int(args["composites"]),
                  seed=int(args["seed"]), p_swap=float(args["swap"]), p_mosaic=float(args["mosaic"]), box="ltrb",
                  budget_s=float(args["budget_s"]))
w = dict(np.load(npz))
m = build((cfg.height, cfg.width), cfg.channels, cfg.model_width)
n = 0
for layer in m.layers:
    ws = layer.get_weights()
    if ws:
        layer.set_weights([w[f"{layer.name}:{i}"] for i in range(len(ws))]); n += 1
data_dir = Path("../shared/data")
train, _ = ddata.split_scenes(data_dir)
negs = ddata.negatives(data_dir, ddata.NEG_TRAIN_HALF)
stream = Stream(cfg, train, negs, False, data_dir)
recompute_bn(m, stream)
work.mkdir(parents=True, exist_ok=True)
m.save_weights(str(work / "final.weights.h5"))
(work / "train_config.json").write_text(json.dumps({**asdict(cfg), "init": init, "train_photos": len(train),
    "negatives_train_half": len(negs), "steps_done": info["steps_done"], "seconds": info["seconds"],
    "trainer": f"torch {info['torch']} on {info['device']} (.devrun/train_gpu.py: the same stream and loss, "
               "data packed from the training split only)"}, indent=1))
print("layers set", n, "->", work)
