"""The QR code printed on every document: a PNG of the verify address."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from PIL import Image

QR_MASK_PATTERN = 2


def qr_png(text: str, *, module_px: int = 8, border: int = 4) -> bytes:
    """A PNG of the QR code of ``text`` (error correction M, a fixed mask pattern)."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=module_px,
        border=border,
        mask_pattern=QR_MASK_PATTERN,
    )
    qr.add_data(text)
    qr.make(fit=True)
    # The module matrix (border included) as a 1-bit image, scaled up without smoothing: the
    # same picture qrcode's PIL factory draws square by square, at a fraction of the cost.
    matrix = qr.get_matrix()
    side = len(matrix)
    modules = Image.new("1", (side, side), 1)
    modules.putdata([0 if dark else 1 for row in matrix for dark in row])
    picture = modules.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()
