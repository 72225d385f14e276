"""Detector training on the GPU box: convert.detector's own data stream (numpy/OpenCV, forked workers) and
loss, the network run by a torch executor of its Keras config; weights go back to Keras by layer name."""
from __future__ import annotations
import argparse, json, math, os, sys, time
from pathlib import Path
import numpy as np
import torch
sys.path.insert(0, ".")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tgraph import KGraph, loss_ltrb  # noqa: E402
from convert.detector import data as ddata  # noqa: E402
from convert.detector.train import Stream, TrainConfig  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--data", type=Path, default=Path(".devdata"))
ap.add_argument("--init", type=Path, default=Path(".devrun/init"))
ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/out")))
ap.add_argument("--budget-s", type=float, default=420)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--swap", type=float, default=0.6)
ap.add_argument("--mosaic", type=float, default=0.5)
ap.add_argument("--composites", type=int, default=1600)
ap.add_argument("--workers", type=int, default=14)
ap.add_argument("--seed", type=int, default=51)
ap.add_argument("--limit", type=int, default=0, help="photos (tests)")
a = ap.parse_args()
a.out.mkdir(parents=True, exist_ok=True)
t_start = time.time()
cfg = TrainConfig(steps=10**7, batch=a.batch, lr=a.lr, composites=a.composites, seed=a.seed, p_swap=a.swap,
                  p_mosaic=a.mosaic, box="ltrb", patch_w=0, patch_h=0)
train, _ = ddata.split_scenes(a.data)
negs = ddata.negatives(a.data, ddata.NEG_TRAIN_HALF)
if a.limit:
    train = train[: a.limit]
stream = Stream(cfg, train, negs, False, a.data)
print(f"stream ready: {len(train)} photos, {len(negs)} negatives, {len(stream.crops)} crops, "
      f"{len(stream.synth_imgs)} composites in {time.time() - t_start:.1f} s", flush=True)


def make_batch(_i):
    xs, ys = [], []
    for _ in range(a.batch):
        img, b = stream.sample()
        xs.append(img)
        ys.append(ddata.targets(b, cfg.size, cfg.stride, cfg.box, cfg.size).astype(np.float16))
    return np.stack(xs), np.stack(ys)


def seed_worker():
    import multiprocessing as mp
    stream.rng = np.random.default_rng(a.seed * 1000 + (mp.current_process()._identity or [0])[0])


def loader_iter():
    """torch DataLoader over shared memory; a fork Pool over pipes where that fails at the first batch."""
    try:
        if os.environ.get("FORCE_POOL"):
            raise RuntimeError("forced")
        class DS(torch.utils.data.IterableDataset):
            def __iter__(self):
                info = torch.utils.data.get_worker_info()
                stream.rng = np.random.default_rng(a.seed * 1000 + (info.id if info else 0))
                while True:
                    yield make_batch(0)
        dl = torch.utils.data.DataLoader(DS(), batch_size=None, num_workers=a.workers, prefetch_factor=4 if a.workers else None,
                                         persistent_workers=bool(a.workers))
        it = iter(dl)
        first = next(it)
        print("loader: DataLoader", flush=True)
        def gen():
            yield first
            yield from it
        return gen()
    except Exception as e:  # noqa: BLE001
        print("DataLoader failed:", repr(e), "-> Pool", flush=True)
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(a.workers, initializer=seed_worker)
        return (tuple(torch.from_numpy(v) for v in b) for b in pool.imap(make_batch, iter(int, 1), chunksize=1))


it = loader_iter()  # workers fork before CUDA starts
dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cudnn.benchmark = True
g = KGraph(json.load(open(a.init / "config.json")))
g.load_keras(dict(np.load(a.init / "weights.npz")))
g.to(dev).train()
opt = torch.optim.Adam(g.parameters(), lr=a.lr, eps=1e-7)
t0, hist, step, wait = time.time(), [], 0, 0.0
while True:
    frac = (time.time() - t0) / a.budget_s
    if frac >= 1.0:
        break
    for pg in opt.param_groups:
        pg["lr"] = a.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)))
    w0 = time.time()
    x, y = next(it)
    wait += time.time() - w0
    x = x.to(dev, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
    y = y.to(dev, non_blocking=True).float()
    pred = g(x).permute(0, 2, 3, 1)
    total, heat, box = loss_ltrb(y, pred, cfg.size)
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()
    step += 1
    if step % 200 == 0:
        hist.append([step, float(total), float(heat), float(box), time.time() - t0])
        print(f"step {step} loss {float(total):.3f} heat {float(heat):.3f} box {float(box):.3f} "
              f"{time.time() - t0:.0f} s {step / (time.time() - t0):.1f} steps/s data wait {wait:.0f} s", flush=True)
np.savez(a.out / "weights.npz", **g.keras_weights())
info = {"steps_done": step, "batch": a.batch, "seconds": time.time() - t0, "total_s": time.time() - t_start,
        "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu", "data_wait_s": wait,
        "args": {k: str(v) for k, v in vars(a).items()}, "hist": hist, "torch": torch.__version__}
(a.out / "gpu_train.json").write_text(json.dumps(info, indent=1))
print("done", json.dumps({k: v for k, v in info.items() if k != "hist"}), flush=True)
os._exit(0)  # no waiting on persistent workers
