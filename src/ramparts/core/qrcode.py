"""QR codes (ISO/IEC 18004, byte mode, error correction level M) as PNG images."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence

__all__ = ["Matrix", "capacity", "encode", "png", "qr_png"]

Matrix = tuple[tuple[bool, ...], ...]  # rows of modules, True = dark

MAX_VERSION = 40
QUIET_ZONE = 4  # modules of light margin the standard requires around the symbol
_FORMAT_M = 0  # level M's two format bits (L=1, M=0, Q=3, H=2)
# Level M per version (index 0 unused) [ISO/IEC 18004 table 9]: error correction codewords
# in each block, and the number of blocks.
_EC_PER_BLOCK = (
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
)
_BLOCKS = (
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21,
    23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
)


# ---- GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D)


def _tables() -> tuple[list[int], list[int]]:
    exp, log = [0] * 512, [0] * 256
    value = 1
    for power in range(255):
        exp[power] = value
        log[value] = power
        value <<= 1
        if value & 0x100:
            value ^= 0x11D
    for power in range(255, 512):
        exp[power] = exp[power - 255]
    return exp, log


_EXP, _LOG = _tables()


def _mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator(degree: int) -> list[int]:
    """The Reed-Solomon generator (x - a^0)...(x - a^(degree-1)), leading 1 dropped."""
    poly = [1]
    for power in range(degree):
        poly = [*poly, 0]
        for i in range(len(poly) - 1, 0, -1):
            poly[i] ^= _mul(poly[i - 1], _EXP[power])
    return poly[1:]


def _ec_codewords(data: Sequence[int], degree: int) -> list[int]:
    generator = _generator(degree)
    remainder = [0] * degree
    for byte in data:
        factor = byte ^ remainder.pop(0)
        remainder.append(0)
        for i, coefficient in enumerate(generator):
            remainder[i] ^= _mul(coefficient, factor)
    return remainder


# ---- sizes


def _size(version: int) -> int:
    return 4 * version + 17


def _alignment_centres(version: int) -> list[int]:
    if version == 1:
        return []
    count = version // 7 + 2
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    last = _size(version) - 7
    return [6, *sorted(last - i * step for i in range(count - 1))]


def _raw_modules(version: int) -> int:
    """Modules left for data and error correction once function patterns are drawn."""
    modules = (16 * version + 128) * version + 64
    if version >= 2:
        count = version // 7 + 2
        modules -= (25 * count - 10) * count - 55
        if version >= 7:
            modules -= 36  # the two version information blocks
    return modules


def _data_codewords(version: int) -> int:
    return _raw_modules(version) // 8 - _EC_PER_BLOCK[version] * _BLOCKS[version]


def _count_bits(version: int) -> int:
    return 8 if version <= 9 else 16


def capacity(version: int) -> int:
    """How many bytes a symbol of `version` holds at level M in byte mode."""
    return (_data_codewords(version) * 8 - 4 - _count_bits(version)) // 8


# ---- codewords


def _codewords(data: bytes, version: int) -> list[int]:
    bits: list[int] = []

    def put(value: int, length: int) -> None:
        bits.extend((value >> shift) & 1 for shift in range(length - 1, -1, -1))

    put(0b0100, 4)  # byte mode
    put(len(data), _count_bits(version))
    for byte in data:
        put(byte, 8)
    room = _data_codewords(version) * 8
    put(0, min(4, room - len(bits)))  # terminator
    put(0, -len(bits) % 8)
    words = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8)]
    pads = (0xEC, 0x11)
    words += [pads[i % 2] for i in range(_data_codewords(version) - len(words))]
    return _interleave(words, version)


def _interleave(words: list[int], version: int) -> list[int]:
    blocks, degree = _BLOCKS[version], _EC_PER_BLOCK[version]
    raw = _raw_modules(version) // 8
    short_count = blocks - raw % blocks
    short_data = raw // blocks - degree
    data_blocks: list[list[int]] = []
    start = 0
    for index in range(blocks):
        length = short_data + (0 if index < short_count else 1)
        data_blocks.append(words[start:start + length])
        start += length
    ec_blocks = [_ec_codewords(block, degree) for block in data_blocks]
    result = [block[i] for i in range(short_data + 1) for block in data_blocks if i < len(block)]
    result += [block[i] for i in range(degree) for block in ec_blocks]
    return result


# ---- the symbol


class _Symbol:
    def __init__(self, version: int) -> None:
        self.version = version
        self.size = _size(version)
        self.dark = [[False] * self.size for _ in range(self.size)]
        self.function = [[False] * self.size for _ in range(self.size)]
        self._draw_function_patterns()

    def set(self, row: int, col: int, dark: bool) -> None:
        self.dark[row][col] = dark
        self.function[row][col] = True

    def _draw_function_patterns(self) -> None:
        size = self.size
        for i in range(size):  # timing patterns
            self.set(6, i, i % 2 == 0)
            self.set(i, 6, i % 2 == 0)
        for row, col in ((3, 3), (3, size - 4), (size - 4, 3)):  # finders and separators
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    r, c = row + dy, col + dx
                    if 0 <= r < size and 0 <= c < size:
                        distance = max(abs(dy), abs(dx))
                        self.set(r, c, distance not in (2, 4))
        centres = _alignment_centres(self.version)
        for row in centres:
            for col in centres:
                if (row, col) in ((6, 6), (6, size - 7), (size - 7, 6)):
                    continue  # the finders are there
                for dy in range(-2, 3):
                    for dx in range(-2, 3):
                        self.set(row + dy, col + dx, max(abs(dy), abs(dx)) != 1)
        self.draw_format(0)  # reserve the format areas; drawn for real once masked
        if self.version >= 7:
            self._draw_version()

    def draw_format(self, mask: int) -> None:
        data = _FORMAT_M << 3 | mask
        remainder = data
        for _ in range(10):
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
        bits = (data << 10 | remainder) ^ 0x5412

        def bit(i: int) -> bool:
            return (bits >> i) & 1 == 1

        size = self.size
        for i in range(6):
            self.set(i, 8, bit(i))
        self.set(7, 8, bit(6))
        self.set(8, 8, bit(7))
        self.set(8, 7, bit(8))
        for i in range(9, 15):
            self.set(8, 14 - i, bit(i))
        for i in range(8):
            self.set(8, size - 1 - i, bit(i))
        for i in range(8, 15):
            self.set(size - 15 + i, 8, bit(i))
        self.set(size - 8, 8, True)  # the dark module

    def _draw_version(self) -> None:
        remainder = self.version
        for _ in range(12):
            remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
        bits = self.version << 12 | remainder
        for i in range(18):
            dark = (bits >> i) & 1 == 1
            a, b = self.size - 11 + i % 3, i // 3
            self.set(b, a, dark)
            self.set(a, b, dark)

    def draw_codewords(self, words: list[int]) -> None:
        size, index, total = self.size, 0, len(words) * 8
        right = size - 1
        while right >= 1:
            if right == 6:  # the vertical timing pattern takes a whole column
                right = 5
            upward = (right + 1) & 2 == 0
            for vertical in range(size):
                row = size - 1 - vertical if upward else vertical
                for col in (right, right - 1):
                    if not self.function[row][col] and index < total:
                        self.dark[row][col] = (words[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
            right -= 2

    def masked(self, mask: int) -> list[list[bool]]:
        condition = _MASKS[mask]
        return [[self.dark[r][c] ^ (not self.function[r][c] and condition(r, c))
                 for c in range(self.size)] for r in range(self.size)]


_MASKS: tuple[Callable[[int, int], bool], ...] = (
    lambda r, c: (r + c) % 2 == 0,
    lambda r, c: r % 2 == 0,
    lambda r, c: c % 3 == 0,
    lambda r, c: (r + c) % 3 == 0,
    lambda r, c: (r // 2 + c // 3) % 2 == 0,
    lambda r, c: r * c % 2 + r * c % 3 == 0,
    lambda r, c: (r * c % 2 + r * c % 3) % 2 == 0,
    lambda r, c: ((r + c) % 2 + r * c % 3) % 2 == 0,
)
_FINDER_LIKE = ((True, False, True, True, True, False, True, False, False, False, False),
                (False, False, False, False, True, False, True, True, True, False, True))


def _penalty(grid: list[list[bool]]) -> int:
    """The standard's score of a masked symbol (lower is easier to read)."""
    size = len(grid)
    lines = [*grid, *([grid[r][c] for r in range(size)] for c in range(size))]
    score = 0
    for line in lines:
        run = 1
        for i in range(1, size + 1):
            if i < size and line[i] == line[i - 1]:
                run += 1
                continue
            if run >= 5:
                score += 3 + run - 5
            run = 1
        for i in range(size - 10):
            if tuple(line[i:i + 11]) in _FINDER_LIKE:
                score += 40
    for r in range(size - 1):
        for c in range(size - 1):
            if grid[r][c] == grid[r][c + 1] == grid[r + 1][c] == grid[r + 1][c + 1]:
                score += 3
    dark = sum(map(sum, grid))
    total = size * size
    score += abs(dark * 20 - total * 10) // total * 10
    return score


def encode(data: bytes) -> Matrix:
    """The smallest level-M symbol holding `data`, with the mask that reads best."""
    version = next((v for v in range(1, MAX_VERSION + 1) if capacity(v) >= len(data)), None)
    if version is None:
        raise ValueError(f"{len(data)} bytes do not fit in a QR code")
    symbol = _Symbol(version)
    symbol.draw_codewords(_codewords(data, version))
    best: list[list[bool]] | None = None
    best_score = 0
    for mask in range(8):
        symbol.draw_format(mask)
        grid = symbol.masked(mask)
        score = _penalty(grid)
        if best is None or score < best_score:
            best, best_score = grid, score
    assert best is not None
    return tuple(tuple(row) for row in best)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png(matrix: Matrix, scale: int = 4) -> bytes:
    """A 1-bit greyscale PNG of the symbol, `scale` pixels a module, with its quiet zone."""
    modules = len(matrix) + 2 * QUIET_ZONE
    width = modules * scale
    rows = bytearray()
    for y in range(width):
        module_row = y // scale - QUIET_ZONE
        bits = [
            not (0 <= module_row < len(matrix) and 0 <= x // scale - QUIET_ZONE < len(matrix)
                 and matrix[module_row][x // scale - QUIET_ZONE])
            for x in range(width)
        ]
        bits += [True] * (-len(bits) % 8)
        rows.append(0)  # filter: none
        rows += bytes(int("".join("1" if b else "0" for b in bits[i:i + 8]), 2)
                      for i in range(0, len(bits), 8))
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(b"IEND", b""))


def qr_png(text: str, scale: int = 4) -> bytes:
    """A PNG of a QR code carrying `text` (UTF-8)."""
    return png(encode(text.encode("utf-8")), scale)
