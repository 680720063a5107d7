#!/usr/bin/env python3
"""Draws the Gemma Desk icon (a four-pointed spark on a rounded blue-violet square) as a PNG with
the standard library only: python3 make_icon.py [SIZE] > gemmadesk.png. 4x4 supersampling."""
import math, struct, sys, zlib

def icon_pixel(x, y):
    """RGBA of the point (x, y) in [0,1]^2, before antialiasing."""
    r = 0.22  # corner radius of the rounded square
    cx, cy = min(max(x, r), 1 - r), min(max(y, r), 1 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return (0, 0, 0, 0)
    t = (x + y) / 2  # diagonal gradient: blue to violet
    bg = (int(40 + 90 * t), int(110 - 50 * t), int(235 - 20 * t))
    # Spark: |dx|^p + |dy|^p <= s^p with p < 1 gives concave sides and four points.
    dx, dy = abs(x - 0.5), abs(y - 0.5)
    p, s = 0.55, 0.36
    if dx ** p + dy ** p <= s ** p:
        return (255, 255, 255, 255)
    return bg + (255,)

def render(size):
    n = 4
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    c = icon_pixel((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    a = c[3]
                    acc[0] += c[0] * a; acc[1] += c[1] * a; acc[2] += c[2] * a; acc[3] += a
            a = acc[3]
            row += bytes([acc[0] // a if a else 0, acc[1] // a if a else 0, acc[2] // a if a else 0, a // (n * n)])
        rows.append(bytes(row))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")

if __name__ == "__main__":
    sys.stdout.buffer.write(render(int(sys.argv[1]) if len(sys.argv) > 1 else 256))
