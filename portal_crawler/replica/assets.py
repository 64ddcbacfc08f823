"""Static bytes the replica serves: photos, stylesheet, script, robots.txt.

Photos are real images, tiny and distinct per URL: a 1x1 baseline JPEG with
a comment (COM) segment holding the path, or a 2x2 PNG with a ``tEXt`` chunk
holding it and a colour derived from it.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

ROBOTS = b"User-agent: *\nDisallow: /Admin/\nDisallow: /search\n"

# A 1x1 grey baseline JPEG: DQT, SOF0, two one-symbol Huffman tables, SOS, one MCU.
_JPEG_TABLES = bytes.fromhex(
    "ffdb004300"
    + "01" * 64
    + "ffc0000b080001000101011100"
    + "ffc4001400"
    + "01"
    + "00" * 15
    + "00"
    + "ffc4001410"
    + "01"
    + "00" * 15
    + "00"
    + "ffda000801010000"
    + "3f00"
    + "3f"
    + "ffd9"
)

STYLE = b"""/* Ministry of Public Security portal (replica) */
body { margin: 0; font: 14px/1.5 Arial, Helvetica, sans-serif; color: #222; background: #f4f4f4; }
a { color: #8b0000; text-decoration: none; } a:hover { text-decoration: underline; }
.top-notice { background: #c00; color: #fff; text-align: center; padding: 4px; font-weight: bold; }
#header, .site-header { background: #a50000; padding: 8px 16px; }
#header .menu, .main-nav ul { list-style: none; margin: 0; padding: 0; display: flex; gap: 16px; }
#header .menu a, .main-nav a { color: #fff; }
.menu .sub { display: none; position: absolute; background: #fff; }
.menu li:hover .sub { display: block; }
#main, .container { max-width: 980px; margin: 0 auto; background: #fff; padding: 16px; }
.news-item, .story { border-bottom: 1px solid #ddd; padding: 8px 0; }
.news-date, .story__time { color: #888; font-size: 12px; }
.detail-title, .article__title { font-size: 24px; color: #8b0000; }
.detail-date, .article__meta { color: #888; margin-bottom: 12px; }
.detail-content p, .article__body p { text-align: justify; }
.image-center { margin: 8px auto; } .image-caption, figcaption, .img-desc { font-style: italic; text-align: center; }
.paging a, .paging span, .pagination a { padding: 2px 6px; border: 1px solid #ccc; }
.paging .active, .pagination .active { background: #a50000; color: #fff; }
.other-news, .related-news { margin-top: 24px; border-top: 2px solid #a50000; }
#footer, .site-footer { background: #333; color: #ccc; text-align: center; padding: 12px; font-size: 12px; }
"""

SCRIPT = b"""/* portal behaviour (replica): menus and the search box */
(function () {
  'use strict';
  function onReady(fn) { if (document.readyState !== 'loading') { fn(); } else { document.addEventListener('DOMContentLoaded', fn); } }
  onReady(function () {
    var boxes = document.querySelectorAll('.search-box, .search-form');
    Array.prototype.forEach.call(boxes, function (box) {
      var input = box.querySelector('input[name=keyword]');
      var button = box.querySelector('button');
      if (!input || !button) { return; }
      button.addEventListener('click', function (event) {
        event.preventDefault();
        window.location.href = '/search?keyword=' + encodeURIComponent(input.value);
      });
    });
  });
})();
"""


def jpeg(path: str) -> bytes:
    """A valid 1x1 JPEG whose COM segment names ``path``."""
    comment = path.encode("utf-8")[:60000]
    return b"\xff\xd8\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + _JPEG_TABLES


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(path: str) -> bytes:
    """A valid 2x2 RGB PNG, coloured from ``path``, with a ``tEXt`` chunk naming it."""
    red, green, blue = hashlib.sha1(path.encode("utf-8")).digest()[:3]
    row = b"\x00" + bytes([red, green, blue]) * 2
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"tEXt", b"Source\x00" + path.encode("latin-1", "replace"))
        + _chunk(b"IDAT", zlib.compress(row * 2, 9))
        + _chunk(b"IEND", b"")
    )


def image(path: str) -> tuple[bytes, str]:
    """Bytes and content type of the photo at ``path`` (by its extension)."""
    if path.lower().endswith(".png"):
        return png(path), "image/png"
    return jpeg(path), "image/jpeg"


LOGO = png("/images/logo.png")
STATIC: dict[str, tuple[bytes, str]] = {
    "/css/style.css": (STYLE, "text/css; charset=utf-8"),
    "/js/main.js": (SCRIPT, "application/javascript; charset=utf-8"),
    "/robots.txt": (ROBOTS, "text/plain; charset=utf-8"),
    "/images/logo.png": (LOGO, "image/png"),
}
