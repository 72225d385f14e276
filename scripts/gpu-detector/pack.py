"""Pack the detector's TRAINING data (train split only; never held-out, bench or evaluation-only) for the GPU box."""
import csv, shutil, sys
from pathlib import Path
import cv2
sys.path.insert(0, ".")
from edge_ocr.bench.scene_split import TRAIN_SETS, is_heldout, negative_half
from edge_ocr.bench.sequence import split_of

D, O = Path("../shared/data"), Path(".devdata")
shutil.rmtree(O, ignore_errors=True)
n = 0
for s in TRAIN_SETS:
    (O / "scenes" / s / "images").mkdir(parents=True); (O / "scenes" / s / "labels").mkdir(parents=True)
    for p in sorted((D / "scenes" / s / "images").iterdir()):
        if is_heldout(p.stem):
            continue
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        cv2.imwrite(str(O / "scenes" / s / "images" / (p.stem + ".jpg")), img, [cv2.IMWRITE_JPEG_QUALITY, 65])
        lab = D / "scenes" / s / "labels" / (p.stem + ".txt")
        if lab.exists():
            shutil.copy(lab, O / "scenes" / s / "labels" / lab.name)
        n += 1
(O / "negatives").mkdir()
for p in sorted((D / "negatives").iterdir()):
    if p.suffix.lower() not in (".jpg", ".jpeg", ".png") or negative_half(p.name) != 0:
        continue
    img = cv2.imread(str(p), cv2.IMREAD_COLOR)
    f = min(1.0, 512 / max(img.shape[:2]))
    img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img
    cv2.imwrite(str(O / "negatives" / p.name), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
src = D / "plates" / "us-nyc-crops"
(O / "plates" / "us-nyc-crops" / "crops").mkdir(parents=True)
rows = list(csv.DictReader(open(src / "labels.csv", newline="", encoding="utf-8")))
keep = []
for r in rows:
    text = "".join(c for c in r["plate"].upper() if c.isalnum())
    if split_of(text) != "train":
        continue
    img = cv2.imread(str(src / "crops" / r["file"]), cv2.IMREAD_COLOR)
    if img is None:
        continue
    f = min(1.0, 160 / img.shape[1])
    img = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img
    name = Path(r["file"]).stem + ".jpg"
    cv2.imwrite(str(O / "plates" / "us-nyc-crops" / "crops" / name), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    keep.append({**r, "file": name})
with open(O / "plates" / "us-nyc-crops" / "labels.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys())); w.writeheader(); w.writerows(keep)
print("scenes", n, "crops", len(keep))
