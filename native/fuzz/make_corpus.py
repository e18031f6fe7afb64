#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus (native/fuzz/corpus/seeds/) and the hand-made regression seeds
(native/fuzz/corpus/regressions/hand-*; native/fuzz/README.md says what each found) in the input format of
mec4j_fuzz.cpp (see decode() there): the paper's 12 layers scaled down, run by every algorithm
and pass, and edge cases (workspace limits on tile boundaries, row bands inside the padding, K
blocks that start inside a row window, micro-kernel edge tiles, 1x1, groups, depthwise,
dilation, sizes near 64-bit overflow, bad values, workspaces passed wrongly, failed
allocations). Deterministic: running it again rewrites the same files.

    python3 native/fuzz/make_corpus.py [CORPUS_DIR]
"""
import os
import struct
import sys

ALGS = {"reference": 0, "im2col": 1, "mec": 2, "mec-a": 3, "mec-b": 4, "mec-rows": 5, "mec-fused": 6,
        "depthwise": 7, "unknown99": 8, "unknown-1": 9}
PASSES = {"fwd": 0, "bwd-data": 1, "bwd-weights": 2, "packed": 3, "bad-direction": 4}
ISAS = {"portable": 0, "avx2": 1, "avx512": 2, "best": 3}
FIELDS = ["n", "ih", "iw", "ic", "kh", "kw", "kc", "sh", "sw", "pt", "pb", "pl", "pr", "threshold", "groups",
          "dh", "dw"]

# Flag bits of byte 4.
BIAS, HEURISTIC, WS_SHORT, WS_MISALIGNED, NULL_INPUT, NULL_GRAD_BIAS, REPACK_ISA, FAIL_OTHER = 1, 2, 8, 12, 16, 32, 64, 128


def field(v):
    if 0 <= v < 0xF8:
        return bytes([v])
    return b"\xff" + struct.pack("<q", v)


def encode(alg, pass_, layer, isa="best", threads=1, flags=BIAS, fail=None, limit=None, data=b"seed"):
    """limit: None, ("x16", v), ("image"|"row"|"strip", count, delta) or ("raw", v).
    fail: None, or (nth, persistent)."""
    out = bytes([ALGS[alg], PASSES[pass_], ISAS[isa], threads - 1, flags,
                 0 if fail is None else 0xC0 | (fail[0] & 0x1F) | (0x20 if fail[1] else 0)])
    full = {"sh": 1, "sw": 1, "pt": 0, "pb": 0, "pl": 0, "pr": 0, "threshold": 0, "groups": 0, "dh": 0, "dw": 0}
    full.update(layer)
    out += b"".join(field(full[f]) for f in FIELDS)
    if limit is None:
        out += b"\x00"
    elif limit[0] == "x16":
        assert 1 <= limit[1] < 0xC0
        out += bytes([limit[1]])
    elif limit[0] == "raw":
        out += b"\xff" + struct.pack("<q", limit[1])
    else:
        unit = {"image": 0, "row": 1, "strip": 2}[limit[0]]
        out += bytes([0xC0 + unit, limit[1], limit[2] & 0xFF])
    return out + data


def layer(n, ih, iw, ic, k, kc, s=1, pad=0, **more):
    d = dict(n=n, ih=ih, iw=iw, ic=ic, kh=k, kw=k, kc=kc, sh=s, sw=s, pt=pad, pb=pad, pl=pad, pr=pad)
    d.update(more)
    return d


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    seeds, regressions = {}, {}

    def add(name, *args, **kwargs):
        assert name not in seeds, name
        seeds[name] = encode(*args, **kwargs)

    # The paper's cv1..cv12 (kernel, stride and shape kept, sizes scaled down), by every
    # algorithm and pass, with the ISA cap, threads and tuning mode rotating.
    paper = [  # ih=iw, ic, k, kc, s
        (31, 3, 11, 8, 4), (35, 3, 11, 8, 4), (19, 3, 7, 8, 2), (17, 8, 7, 8, 2), (10, 12, 5, 20, 1),
        (6, 16, 3, 24, 1), (12, 3, 3, 8, 1), (10, 8, 3, 16, 1), (9, 8, 3, 8, 1), (8, 16, 3, 16, 1),
        (6, 24, 3, 24, 1), (5, 32, 3, 32, 1)]
    isas = ["best", "avx2", "portable"]
    i = 0
    for number, (hw, ic, k, kc, s) in enumerate(paper, 1):
        for batch in (1, 3):
            l = layer(batch, hw, hw, ic, k, kc, s)
            runs = [(a, "fwd") for a in ALGS if a not in ("unknown99", "unknown-1")] if batch == 1 else []
            runs += [(a, p) for a in ("reference", "im2col", "mec", "mec-rows") for p in ("bwd-data", "bwd-weights")
                     if batch == 3 or a == "mec"]
            runs += [("mec", "fwd"), ("mec-fused", "packed")] if batch == 3 else [("mec-fused", "packed")]
            for a, p in runs:
                i += 1
                add(f"cv{number:02d}-mb{batch}-{a}-{p}", a, p, l, isa=isas[i % 3], threads=1 + i % 2,
                    flags=BIAS | (HEURISTIC if i % 4 == 0 else 0), data=b"cv%d" % i)

    # Workspace limits exactly on MEC's tile boundaries, one float either side: image groups,
    # row bands (ekh + j*s_h lowered rows), output-column strips; and just below the smallest.
    l = layer(5, 9, 8, 3, 3, 6, 1, 1)
    for a in ("mec", "mec-fused", "mec-rows", "mec-b", "mec-a", "im2col"):
        for count, delta in ((1, 0), (2, 0), (2, -1), (2, 1), (4, 0)):
            add(f"limit-images-{count}{delta:+d}-{a}", a, "fwd", l, limit=("image", count, delta))
    for a, p in (("mec", "fwd"), ("mec-fused", "fwd"), ("mec-rows", "fwd"), ("mec-b", "fwd"), ("mec", "bwd-data"),
                 ("mec", "bwd-weights"), ("mec-fused", "packed")):
        for count, delta in ((3, 0), (3, -1), (4, 0), (5, 0), (5, 1), (9, 0)):
            add(f"limit-rows-{count}{delta:+d}-{a}-{p}", a, p, l, limit=("row", count, delta))
        for count, delta in ((1, 0), (1, -1), (2, 0), (3, 1)):
            add(f"limit-strips-{count}{delta:+d}-{a}-{p}", a, p, l, limit=("strip", count, delta))
    ls = layer(2, 11, 9, 2, 3, 5, 2, 1)  # stride 2: bands step by two rows
    for count in (3, 4, 5, 6, 7):
        for a, p in (("mec", "fwd"), ("mec-fused", "fwd"), ("mec", "bwd-data"), ("mec", "bwd-weights")):
            add(f"limit-rows-stride2-{count}-{a}-{p}", a, p, ls, limit=("row", count, 0))
    for x16 in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144):
        add(f"limit-x16-{x16}-mec", "mec", "fwd", layer(2, 7, 7, 2, 3, 4, 1, 1), limit=("x16", x16))
    # Dilated and grouped layers cannot take column tiles: bands or a refusal.
    add("limit-rows-dilated-mec-fused", "mec-fused", "fwd", layer(1, 12, 9, 2, 3, 4, 1, 2, dh=2, dw=2),
        limit=("row", 5, 0))
    add("limit-strips-grouped-refused", "mec-fused", "fwd", layer(1, 9, 9, 4, 3, 4, 1, 1, groups=2),
        limit=("strip", 1, 0))

    # Row bands that start inside the padding, and bands that read padding only.
    for pad, k in ((4, 3), (5, 2), (3, 1)):
        l = layer(2, 6, 5, 3, k, 4, 1, pad)
        for a, p in (("mec", "fwd"), ("mec-fused", "fwd"), ("mec-rows", "fwd"), ("mec-b", "fwd"), ("mec", "bwd-data"),
                     ("mec", "bwd-weights")):
            add(f"bands-in-padding-p{pad}-k{k}-{a}-{p}", a, p, l, limit=("row", k, 0))
    add("bands-in-padding-asym", "mec", "fwd", dict(layer(1, 5, 6, 2, 3, 3), pt=7, pb=1, pl=2, pr=0),
        limit=("row", 3, 0))

    # K blocks that start inside a row window (K = k_h*k_w*i_c above kc = 256..512, piece not
    # dividing it), and long-K grouped layers.
    for ic, k in ((30, 3), (37, 5), (29, 3), (61, 3)):
        for a in ("mec-fused", "mec"):
            for isa in ("best", "portable"):
                add(f"kblocks-ic{ic}-k{k}-{a}-{isa}", a, "fwd", layer(1, 6, 6, ic, k, 5, 1, 1), isa=isa)
        add(f"kblocks-ic{ic}-k{k}-packed", "mec-fused", "packed", layer(1, 6, 6, ic, k, 5, 1, 1))
    add("kblocks-grouped", "mec-fused", "fwd", layer(1, 6, 6, 60, 3, 6, 1, 1, groups=2))

    # Micro-kernel edge tiles: M (pixels) and N (k_c) not multiples of 6x16 / 4x8 / 12x32.
    for m_side, kc in ((1, 1), (1, 17), (2, 15), (3, 33), (5, 7), (7, 31), (4, 16), (6, 32)):
        for isa in ("best", "avx2", "portable"):
            add(f"edge-tiles-{m_side}x{m_side}-kc{kc}-{isa}", "mec-fused", "fwd",
                layer(1, m_side + 2, m_side + 2, 3, 3, kc, 1, 0), isa=isa, threads=2)

    # 1x1 layers: in place, subsampled, padded, tiled; grouped.
    for s, pad, name in ((1, 0, "s1"), (2, 0, "s2"), (3, 0, "s3"), (1, 1, "s1-padded")):
        l = layer(3, 7, 6, 8, 1, 9, s, pad)
        for a in ("mec", "mec-fused", "mec-rows", "mec-b", "mec-a", "im2col"):
            add(f"1x1-{name}-{a}-fwd", a, "fwd", l)
        for a in ("mec", "mec-rows", "im2col"):
            for p in ("bwd-data", "bwd-weights"):
                add(f"1x1-{name}-{a}-{p}", a, p, l)
        add(f"1x1-{name}-mec-tiled", "mec", "fwd", l, limit=("image", 1, 0))
        add(f"1x1-{name}-mec-bwd-tiled", "mec", "bwd-data", l, limit=("row", 2, 0))
    add("1x1-grouped", "mec-fused", "fwd", layer(2, 5, 5, 8, 1, 12, 1, 0, groups=4))

    # Depthwise: multiplier 1 and 2, strides, dilation, a channel tail past the vector width.
    for name, l in (("m1-3x3", layer(2, 9, 9, 12, 3, 12, 1, 1, groups=12)),
                    ("m2-3x3-s2", layer(1, 9, 8, 5, 3, 10, 2, 1, groups=5)),
                    ("m1-5x5", layer(1, 11, 10, 33, 5, 33, 1, 2, groups=33)),
                    ("m1-3x3-d2", layer(1, 10, 10, 8, 3, 8, 1, 2, groups=8, dh=2, dw=2)),
                    ("m3-1x1", layer(1, 4, 4, 4, 1, 12, 1, 0, groups=4)),
                    # Multiplier 1 in whole vectors and a tail (64, 40 channels): the row windows
                    # of 3 and 5 taps at strides 1 and 2, and the general path (7 taps, dilation).
                    ("m1-3x3-s2-c64", layer(1, 9, 10, 64, 3, 64, 2, 1, groups=64)),
                    ("m1-5x5-s2-c40", layer(1, 11, 9, 40, 5, 40, 2, 2, groups=40)),
                    ("m1-3x3-c64", layer(2, 6, 7, 64, 3, 64, 1, 1, groups=64)),
                    ("m1-5x5-c64", layer(1, 7, 8, 64, 5, 64, 1, 2, groups=64)),
                    ("m1-7x7-c64", layer(1, 9, 9, 64, 7, 64, 1, 3, groups=64)),
                    ("m1-3x3-d2-c40", layer(1, 8, 9, 40, 3, 40, 1, 2, groups=40, dh=2, dw=2)),
                    ("m1-3x3-s3-c8", layer(1, 10, 10, 8, 3, 8, 3, 1, groups=8))):
        for a, p in (("depthwise", "fwd"), ("mec", "fwd"), ("mec-fused", "fwd"), ("reference", "fwd"),
                     ("depthwise", "bwd-data"), ("depthwise", "bwd-weights"), ("mec", "bwd-data"),
                     ("mec", "bwd-weights"), ("im2col", "bwd-weights")):
            for isa in (("best", "portable") if p == "fwd" else ("best",)):
                add(f"depthwise-{name}-{a}-{p}-{isa}", a, p, l, isa=isa, threads=2)

    # Groups and dilation.
    for name, l in (("g2", layer(2, 8, 7, 6, 3, 4, 1, 1, groups=2)),
                    ("g3-s2", layer(1, 9, 9, 9, 3, 6, 2, 1, groups=3)),
                    ("d2", layer(1, 10, 9, 3, 3, 5, 1, 2, dh=2, dw=2)),
                    ("d3x1", layer(2, 12, 7, 2, 3, 4, 1, 0, dh=3, dw=1)),
                    ("d1x2-s2", layer(1, 9, 12, 3, 3, 5, 2, 1, dh=1, dw=2)),
                    ("g2-d2", layer(1, 9, 9, 4, 3, 6, 1, 2, groups=2, dh=2, dw=2))):
        for a, p in (("mec", "fwd"), ("mec-fused", "fwd"), ("mec-rows", "fwd"), ("mec-a", "fwd"), ("mec-b", "fwd"),
                     ("im2col", "fwd"), ("mec", "bwd-data"), ("mec", "bwd-weights"), ("mec-rows", "bwd-data"),
                     ("im2col", "bwd-data"), ("mec-fused", "packed")):
            add(f"{name}-{a}-{p}", a, p, l)
    add("kernel-below-stride", "mec-rows", "fwd", layer(2, 9, 9, 3, 2, 4, 3, 0))
    add("kernel-below-stride-bwd", "mec", "bwd-data", layer(2, 9, 9, 3, 2, 4, 3, 0))
    add("output-padding-only", "mec", "fwd", layer(1, 2, 2, 3, 3, 4, 1, 4))
    add("threshold-1-mec", "mec", "fwd", layer(3, 6, 6, 2, 3, 3, 1, 1, threshold=1), flags=BIAS | HEURISTIC)
    add("small-images-batch-chunks", "mec", "bwd-weights", layer(9, 3, 3, 2, 3, 5, 1, 1))

    # Sizes near 64-bit overflow, negative and zero values: every call must refuse them.
    big = 1 << 62
    for name, l in (("batch-2p62", layer(big, 2, 2, 1, 1, 1)),
                    ("input-2p31", layer(1, 1 << 31, 1 << 31, 1 << 31, 1, 1)),
                    ("channels-2p40", layer(1, 1, 1, 1 << 40, 1, 1 << 40)),
                    ("pad-max", layer(1, 3, 3, 1, 1, 1, pad=(1 << 63) - 1)),
                    ("pad-half", layer(1, 3, 3, 1, 1, 1, pad=1 << 62)),
                    ("dilation-2p62", layer(1, 3, 3, 1, 2, 1, dh=big, dw=big)),
                    ("kernel-2p32", layer(1, 1 << 32, 1 << 32, 1, 1 << 32, 1)),
                    ("stride-max", layer(1, 3, 3, 1, 1, 1, s=(1 << 63) - 1)),
                    ("lowered-overflow", layer(1 << 20, 1 << 10, 1 << 10, 1 << 10, 3, 1, pad=1)),
                    ("im2col-overflow", layer(1 << 16, 1 << 12, 1 << 12, 64, 7, 64, pad=3)),
                    ("negative-batch", layer(-1, 3, 3, 1, 1, 1)),
                    ("negative-pad", layer(1, 3, 3, 1, 1, 1, pad=-1)),
                    ("negative-groups", layer(1, 3, 3, 2, 1, 2, groups=-2)),
                    ("zero-channels", layer(1, 3, 3, 0, 1, 1)),
                    ("groups-not-dividing", layer(1, 3, 3, 6, 1, 4, groups=4)),
                    ("kernel-above-input", layer(1, 3, 3, 1, 5, 1)),
                    ("large-valid", layer(64, 256, 256, 64, 3, 64, pad=1))):
        for a, p in (("mec", "fwd"), ("im2col", "bwd-data"), ("mec-rows", "bwd-weights"), ("mec-fused", "packed"),
                     ("reference", "fwd")):
            add(f"overflow-{name}-{a}-{p}", a, p, l)
    for v in (1 << 63) - 1, -1, 1 << 40, 4:
        add(f"limit-raw-{v}", "mec", "fwd", layer(3, 8, 8, 3, 3, 4, 1, 1), limit=("raw", v))

    # Bad values: unknown algorithms, a bad direction; workspaces passed wrongly, null pointers.
    l = layer(2, 7, 7, 3, 3, 5, 1, 1)
    for a in ("unknown99", "unknown-1"):
        add(f"bad-{a}", a, "fwd", l)
    for a in ("mec", "reference", "mec-rows"):
        add(f"bad-direction-{a}", a, "bad-direction", l)
    for a, p in (("mec", "fwd"), ("mec-fused", "fwd"), ("im2col", "bwd-data"), ("mec", "bwd-weights"),
                 ("mec-fused", "packed"), ("reference", "fwd"), ("depthwise", "bwd-data")):
        for fname, f in (("short", WS_SHORT), ("misaligned", WS_MISALIGNED), ("null-input", NULL_INPUT),
                         ("no-bias", 0), ("null-grad-bias", NULL_GRAD_BIAS)):
            add(f"args-{fname}-{a}-{p}", a, p, l if a != "depthwise" else layer(1, 5, 5, 4, 3, 4, 1, 1, groups=4),
                flags=f)
    add("packed-other-isa", "mec-fused", "packed", l, flags=BIAS | REPACK_ISA)
    add("packed-other-isa-portable", "mec-fused", "packed", l, isa="portable", flags=BIAS | REPACK_ISA)

    # Failed allocations: each of the first few of a call, alone and with every later one.
    for a, p, l in (("mec", "fwd", layer(3, 6, 6, 3, 3, 4, 1, 1)), ("mec-fused", "fwd", layer(2, 9, 8, 4, 3, 5, 1, 1)),
                    ("reference", "bwd-weights", layer(1, 5, 5, 2, 3, 3)),
                    ("mec", "bwd-data", layer(2, 9, 8, 3, 3, 4, 1, 1)), ("reference", "fwd", layer(1, 4, 4, 2, 3, 2))):
        for nth in range(0, 6):
            for persistent in (False, True):
                add(f"fail-alloc-{nth}{'-on' if persistent else ''}-{a}-{p}", a, p, l, threads=2,
                    fail=(nth, persistent), flags=BIAS | (HEURISTIC if a == "reference" else 0),
                    data=b"fail%d" % nth)
    add("fail-alloc-banded-mec", "mec", "fwd", layer(2, 17, 8, 4, 3, 5, 1, 1), fail=(2, True),
        limit=("row", 5, 0))
    # The same with another exception than std::bad_alloc: MEC4J_ERROR_INTERNAL, outputs untouched.
    for nth in range(0, 4):
        add(f"fail-other-{nth}-mec-fused-fwd", "mec-fused", "fwd", layer(2, 9, 8, 4, 3, 5, 1, 1), threads=2,
            fail=(nth, False), flags=BIAS | FAIL_OTHER, data=b"other%d" % nth)

    # Regressions: the smallest inputs that showed each bug the fuzzer found (README.md there).
    top = (1 << 63) - 1
    for name, a, p, l in (
            ("stride-max-mec-a", "mec-a", "fwd", layer(2, 3, 5, 3, 2, 1, 1, sh=top - 1)),
            ("stride-max-mec-rows", "mec-rows", "fwd", layer(1, 3, 4, 1, 2, 1, 1, sh=top - 1)),
            ("stride-max-mec-fused", "mec-fused", "fwd", layer(1, 3, 4, 1, 2, 1, 1, sh=top - 1)),
            ("stride-max-mec-bwd-data", "mec", "bwd-data", layer(1, 3, 4, 1, 2, 1, 1, sh=top - 1)),
            ("stride-max-depthwise", "depthwise", "fwd", layer(1, 3, 3, 2, 1, 2, 1, sw=top, pl=2, groups=2)),
            ("enum-bad-direction", "mec", "bad-direction", layer(1, 4, 4, 1, 3, 1, 1)),
            ("enum-unknown-algorithm", "unknown-1", "fwd", layer(1, 4, 4, 1, 3, 1, 1))):
        regressions["hand-" + name] = encode(a, p, l)

    for sub, files in (("seeds", seeds), ("regressions", regressions)):
        os.makedirs(os.path.join(corpus, sub), exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(corpus, sub, name), "wb") as f:
                f.write(data)
    print(f"{len(seeds)} seeds, {len(regressions)} hand-made regression seeds in {corpus}")


if __name__ == "__main__":
    main()
