"""QR codes: the standard's capacities, a decoder's reading of every symbol (format, masks,
Reed-Solomon blocks, byte-mode data), the PNG container, and zbar's reading where installed."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from ramparts.core import qrcode

# [ISO/IEC 18004 table 7]: byte-mode capacity at error correction level M.
CAPACITY_M = {1: 14, 2: 26, 3: 42, 4: 62, 5: 84, 6: 106, 7: 122, 8: 152, 9: 180, 10: 213,
              11: 251, 12: 287, 13: 331, 14: 362, 15: 412, 16: 450, 17: 504, 18: 560, 19: 624,
              20: 666, 25: 997, 30: 1370, 40: 2331}
URI = ("otpauth://totp/ramparts:phone-1%401234567890123456?secret="
       "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&issuer=ramparts&algorithm=SHA1&digits=6&period=30")


@pytest.mark.parametrize(("version", "expected"), sorted(CAPACITY_M.items()))
def test_capacity_matches_the_standard(version: int, expected: int) -> None:
    assert qrcode.capacity(version) == expected


# ---- an independent reading of a symbol


def _syndromes_are_zero(block: list[int], ec_count: int) -> bool:
    """A valid Reed-Solomon codeword evaluates to 0 at a^0 .. a^(ec_count-1)."""
    for power in range(ec_count):
        point, value = qrcode._EXP[power], 0
        for byte in block:
            value = qrcode._mul(value, point) ^ byte
        if value != 0:
            return False
    return True


def _format(matrix: qrcode.Matrix) -> tuple[int, int]:
    """(error correction bits, mask) from both copies of the format information."""
    size = len(matrix)
    first = [matrix[i][8] for i in range(6)] + [matrix[7][8], matrix[8][8], matrix[8][7]] \
        + [matrix[8][14 - i] for i in range(9, 15)]
    second = [matrix[8][size - 1 - i] for i in range(8)] \
        + [matrix[size - 15 + i][8] for i in range(8, 15)]
    assert first == second
    bits = sum(1 << i for i, dark in enumerate(first) if dark) ^ 0x5412
    data = bits >> 10
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    assert bits & 0x3FF == remainder, "the format information fails its BCH check"
    return data >> 3, data & 7


def _version(matrix: qrcode.Matrix) -> int:
    """The version from both copies of the version information (versions 7 and up)."""
    size = len(matrix)
    top_right = sum(1 << i for i in range(18) if matrix[i // 3][size - 11 + i % 3])
    bottom_left = sum(1 << i for i in range(18) if matrix[size - 11 + i % 3][i // 3])
    assert top_right == bottom_left
    version = top_right >> 12
    remainder = version
    for _ in range(12):
        remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25)
    assert top_right & 0xFFF == remainder, "the version information fails its BCH check"
    return version


def read(matrix: qrcode.Matrix) -> bytes:
    size = len(matrix)
    version = (size - 17) // 4
    if version >= 7:
        assert _version(matrix) == version
    ecl, mask = _format(matrix)
    assert ecl == 0  # level M
    function = qrcode._Symbol(version).function
    condition = qrcode._MASKS[mask]
    bits: list[int] = []
    right = size - 1
    while right >= 1:
        if right == 6:
            right = 5
        upward = (right + 1) & 2 == 0
        for vertical in range(size):
            row = size - 1 - vertical if upward else vertical
            for col in (right, right - 1):
                if not function[row][col]:
                    bits.append(int(matrix[row][col] ^ condition(row, col)))
        right -= 2
    total = qrcode._raw_modules(version) // 8
    words = [int("".join(map(str, bits[i * 8:i * 8 + 8])), 2) for i in range(total)]
    blocks, ec_count = qrcode._BLOCKS[version], qrcode._EC_PER_BLOCK[version]
    short_count = blocks - total % blocks
    lengths = [total // blocks - ec_count + (0 if b < short_count else 1) for b in range(blocks)]
    data_blocks: list[list[int]] = [[] for _ in range(blocks)]
    position = 0
    for i in range(max(lengths)):
        for b in range(blocks):
            if i < lengths[b]:
                data_blocks[b].append(words[position])
                position += 1
    ec_blocks: list[list[int]] = [[] for _ in range(blocks)]
    for _ in range(ec_count):
        for b in range(blocks):
            ec_blocks[b].append(words[position])
            position += 1
    for data, ec in zip(data_blocks, ec_blocks, strict=True):
        assert _syndromes_are_zero(data + ec, ec_count)
    stream = "".join(f"{byte:08b}" for block in data_blocks for byte in block)
    assert stream[:4] == "0100"  # byte mode
    count_bits = 8 if version <= 9 else 16
    length = int(stream[4:4 + count_bits], 2)
    start = 4 + count_bits
    return bytes(int(stream[start + 8 * i:start + 8 * i + 8], 2) for i in range(length))


@pytest.mark.parametrize("length", [0, 1, 14, 15, 42, 106, 122, 123, 152, 180, 181, 213, 214,
                                    300, 700, 1400, 2331])
def test_symbols_read_back(length: int) -> None:
    data = bytes((i * 37 + 11) % 256 for i in range(length))
    matrix = qrcode.encode(data)
    assert read(matrix) == data
    version = (len(matrix) - 17) // 4
    assert qrcode.capacity(version) >= length
    assert version == 1 or qrcode.capacity(version - 1) < length  # the smallest that fits


def test_every_mask_reads_back() -> None:
    data = URI.encode()
    version = 10
    for mask in range(8):
        symbol = qrcode._Symbol(version)
        symbol.draw_codewords(qrcode._codewords(data, version))
        symbol.draw_format(mask)
        matrix = tuple(tuple(row) for row in symbol.masked(mask))
        assert _format(matrix) == (0, mask)
        assert read(matrix) == data


def test_finder_patterns_and_timing() -> None:
    matrix = qrcode.encode(URI.encode())
    size = len(matrix)
    finder = [[max(abs(r - 3), abs(c - 3)) != 2 for c in range(7)] for r in range(7)]
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        assert [list(matrix[top + r][left:left + 7]) for r in range(7)] == finder
    assert [matrix[6][c] for c in range(8, size - 8)] == [c % 2 == 0 for c in range(8, size - 8)]


def test_too_much_data_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        qrcode.encode(bytes(qrcode.capacity(40) + 1))


# ---- the PNG


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, payload = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + payload) & 0xFFFFFFFF
        chunks.append((kind, payload))
        offset += 12 + length
    return chunks


def test_png_pixels_are_the_modules_with_a_quiet_zone() -> None:
    matrix = qrcode.encode(URI.encode())
    scale = 3
    chunks = _chunks(qrcode.png(matrix, scale))
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    side = (len(matrix) + 2 * qrcode.QUIET_ZONE) * scale
    assert (width, height, depth, colour) == (side, side, 1, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + (side + 7) // 8
    assert len(raw) == stride * side
    for y in range(side):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0
        for x in range(side):
            white = (line[1 + x // 8] >> (7 - x % 8)) & 1 == 1
            r, c = y // scale - qrcode.QUIET_ZONE, x // scale - qrcode.QUIET_ZONE
            dark = 0 <= r < len(matrix) and 0 <= c < len(matrix) and matrix[r][c]
            assert white is not dark


@pytest.mark.skipif(shutil.which("zbarimg") is None, reason="zbarimg (zbar-tools) is absent")
@pytest.mark.parametrize("text", [URI, "x", "A" * 500])
def test_zbar_reads_the_png(tmp_path: Path, text: str) -> None:
    image = tmp_path / "qr.png"
    image.write_bytes(qrcode.qr_png(text))
    out = subprocess.run(["zbarimg", "-q", "--raw", "-Sbinary", str(image)],
                         capture_output=True, check=True, timeout=30)
    assert out.stdout.decode("utf-8").rstrip("\n") == text
