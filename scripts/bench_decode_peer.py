"""Python peer of `npm run bench:decode`: the same decode + resize to the model input, per file.

DICOM: pydicom reads the file, NumPy applies the first window (else a 0.5-99.5 percentile stretch)
and MONOCHROME1 inversion; JPEG: Pillow with draft mode (libjpeg DCT scaling to >= 8x the input
side); PNG: Pillow. Then letterbox to a square and an area average to SIZE x SIZE (np.add.reduceat
over cell edges), normalise, and sha256 the file bytes, as chexpo's prepareImage does.

Usage: python3 bench_decode_peer.py SIZE ROUNDS FILE...  -> one JSON line per file: {"file", "ms": [...]}
"""
import hashlib
import io
import json
import sys
import time

import numpy as np
import pydicom
from PIL import Image


def area_resize(img: np.ndarray, size: int) -> np.ndarray:
    h, w = img.shape
    side = max(h, w)
    square = np.zeros((side, side), dtype=np.float32)
    y0, x0 = (side - h) // 2, (side - w) // 2
    square[y0 : y0 + h, x0 : x0 + w] = img
    edges = (np.arange(size) * side) // size
    rows = np.add.reduceat(square, edges, axis=0)
    cells = np.add.reduceat(rows, edges, axis=1)
    counts = np.diff(np.append(edges, side))
    out = cells / np.outer(counts, counts)
    return ((out - 0.5) / 0.25).astype(np.float32)


def decode_dicom(data: bytes) -> np.ndarray:
    ds = pydicom.dcmread(io.BytesIO(data))
    px = ds.pixel_array.astype(np.float32)
    px = px * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
    if "WindowCenter" in ds and "WindowWidth" in ds:
        c = ds.WindowCenter[0] if ds["WindowCenter"].VM > 1 else ds.WindowCenter
        w = ds.WindowWidth[0] if ds["WindowWidth"].VM > 1 else ds.WindowWidth
        lo, hi = float(c) - 0.5 - (float(w) - 1) / 2, float(c) - 0.5 + (float(w) - 1) / 2
    else:
        lo, hi = np.percentile(px, [0.5, 99.5])
    out = np.clip((px - lo) / max(hi - lo, 1e-6), 0, 1)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        out = 1 - out
    return out


def decode_jpeg(data: bytes, size: int) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    im.draft("L", (8 * size, 8 * size))
    return np.asarray(im.convert("L"), dtype=np.float32) / 255


def decode_png(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    arr = np.asarray(im)
    scale = 65535.0 if arr.dtype == np.uint16 or im.mode.startswith("I") else 255.0
    if arr.ndim == 3:
        arr = arr[..., :3] @ np.array([0.299, 0.587, 0.114])
    return arr.astype(np.float32) / scale


def prepare(path: str, data: bytes, size: int) -> np.ndarray:
    hashlib.sha256(data).hexdigest()
    if path.endswith(".dcm"):
        img = decode_dicom(data)
    elif path.endswith(".jpg"):
        img = decode_jpeg(data, size)
    else:
        img = decode_png(data)
    return area_resize(img, size)


def main() -> None:
    size, rounds, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        for _ in range(3):
            prepare(path, data, size)
        ms = []
        for _ in range(rounds):
            t = time.perf_counter()
            prepare(path, data, size)
            ms.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"file": path, "ms": ms}), flush=True)


if __name__ == "__main__":
    main()
