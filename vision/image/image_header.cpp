// Image headers: the format from the magic bytes, then the stored width and height (and the EXIF
// orientation) from the first bytes of the file, so the decoder's limits hold before OpenCV or
// the GIF decoder allocates anything.
#include <algorithm>
#include <cstring>

#include "vision/image/gif_decode.h"
#include "vision/image/image_format.h"
#include "vision/image/tiff_ifd.h"

namespace gd::image_detail {

namespace {

struct Magic {
    ImageFormat format;
    const char* bytes;
    size_t size;
    size_t offset;
};

// RIFF....WEBP has its second half at offset 8.
const Magic kMagics[] = {
    {ImageFormat::png, "\x89PNG\r\n\x1a\n", 8, 0}, {ImageFormat::jpeg, "\xff\xd8\xff", 3, 0},
    {ImageFormat::gif, "GIF87a", 6, 0},            {ImageFormat::gif, "GIF89a", 6, 0},
    {ImageFormat::tiff, "II*\0", 4, 0},            {ImageFormat::tiff, "MM\0*", 4, 0},
    {ImageFormat::tiff, "II+\0", 4, 0},            {ImageFormat::tiff, "MM\0+", 4, 0},
    {ImageFormat::bmp, "BM", 2, 0},                {ImageFormat::webp, "WEBP", 4, 8},
};

bool png_header(const uint8_t* d, size_t n, ImageHeader& h) {
    // Signature, then the IHDR chunk: length 13, "IHDR", width, height, ...
    if (n < 8 + 8 + 13 || be32(d + 8) != 13 || std::memcmp(d + 12, "IHDR", 4) != 0) return false;
    h.width = be32(d + 16);
    h.height = be32(d + 20);
    if (h.width == 0 || h.height == 0 || h.width > 0x7fffffff || h.height > 0x7fffffff) return false;  // PNG's own limits
    // PIL applies the orientation of an eXIf chunk wherever it is (before or after the pixels).
    for (size_t off = 8; n - off >= 12;) {
        const uint32_t len = be32(d + off);
        if (len > n - off - 12) break;
        if (std::memcmp(d + off + 4, "eXIf", 4) == 0) {
            h.orientation = exif_orientation(d + off + 8, len);
            break;
        }
        if (std::memcmp(d + off + 4, "IEND", 4) == 0) break;
        off += 12 + size_t(len);
    }
    return true;
}

bool is_sof(uint8_t marker) {
    // SOF0..SOF15, less DHT (C4), JPG (C8) and DAC (CC), which share the range.
    return marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
}

// Walks the marker segments up to the first start-of-scan. Returns the offset of the SOS
// segment's payload end (where entropy-coded data begins), or 0 when the walk fails.
size_t jpeg_walk(const uint8_t* d, size_t n, ImageHeader* h) {
    if (n < 4 || d[0] != 0xff || d[1] != 0xd8) return 0;
    bool have_sof = false, have_exif = false;
    size_t off = 2;
    while (off < n) {
        // libjpeg skips stray bytes before a marker (with a warning); so do we.
        while (off < n && d[off] != 0xff) ++off;
        while (off < n && d[off] == 0xff) ++off;  // fill bytes
        if (off >= n) return 0;
        const uint8_t marker = d[off++];
        if (marker == 0xd8 || marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;  // no length
        if (marker == 0xd9) return 0;                                                         // EOI before any scan
        if (n - off < 2) return 0;
        const size_t len = be16(d + off);
        if (len < 2 || len > n - off) return 0;
        const uint8_t* seg = d + off + 2;
        const size_t seg_len = len - 2;
        if (is_sof(marker) && !have_sof) {
            if (seg_len < 5) return 0;
            if (h) {
                h->height = be16(seg + 1);
                h->width = be16(seg + 3);
            }
            have_sof = true;
        } else if (marker == 0xe1 && !have_exif && seg_len >= 6 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
            if (h) h->orientation = exif_orientation(seg, seg_len);  // PIL uses the first EXIF block
            have_exif = true;
        } else if (marker == 0xda) {
            return have_sof ? off + len : 0;
        }
        off += len;
    }
    return 0;
}

bool bmp_header(const uint8_t* d, size_t n, ImageHeader& h) {
    if (n < 26) return false;
    const uint32_t dib = le32(d + 14);
    if (dib == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit unsigned sides
        h.width = le16(d + 18);
        h.height = le16(d + 20);
    } else if (dib >= 40 && dib <= 124) {  // BITMAPINFOHEADER and its successors: signed 32-bit
        h.width = int32_t(le32(d + 18));
        h.height = int32_t(le32(d + 22));
        if (h.height < 0) h.height = -h.height;  // top-down rows (int64: INT32_MIN is fine)
    } else {
        return false;
    }
    return h.width > 0 && h.height > 0;
}

bool tiff_header(const uint8_t* d, size_t n, ImageHeader& h) {
    uint64_t w = 0, ht = 0;
    if (tiff_first_ifd_tag(d, n, 256, w) != 1 || tiff_first_ifd_tag(d, n, 257, ht) != 1) return false;
    if (w == 0 || ht == 0 || w > 0x7fffffff || ht > 0x7fffffff) return false;
    h.width = int64_t(w);
    h.height = int64_t(ht);
    // A tiled TIFF makes the decoder allocate whole tiles: a tiny image declaring huge tiles would be
    // a bomb its sides do not show. Real tiles (multiples of 16, often 256x256) may overhang a small
    // image, so the bound is generous: four times the image, or 512x512 pixels.
    uint64_t tw = 0, tl = 0;
    const int has_tw = tiff_first_ifd_tag(d, n, 322, tw), has_tl = tiff_first_ifd_tag(d, n, 323, tl);
    if (has_tw != 0 || has_tl != 0) {
        if (tw == 0 || tl == 0 || tw > 0xffffff || tl > 0xffffff) return false;
        if (tw * tl > std::max<uint64_t>(4 * w * ht, 512 * 512)) return false;
    }
    // libtiff (through OpenCV) applies a TIFF's own orientation tag while decoding, as PIL does.
    return true;
}

bool webp_header(const uint8_t* d, size_t n, ImageHeader& h) {
    if (n < 20 || std::memcmp(d, "RIFF", 4) != 0) return false;
    const uint8_t* c = d + 20;  // payload of the first chunk
    const size_t avail = n - 20;
    if (std::memcmp(d + 12, "VP8 ", 4) == 0) {  // lossy: frame tag, start code, 14-bit sides
        if (avail < 10 || c[3] != 0x9d || c[4] != 0x01 || c[5] != 0x2a) return false;
        h.width = le16(c + 6) & 0x3fff;
        h.height = le16(c + 8) & 0x3fff;
    } else if (std::memcmp(d + 12, "VP8L", 4) == 0) {  // lossless: signature, 14-bit sides - 1
        if (avail < 5 || c[0] != 0x2f) return false;
        const uint32_t bits = le32(c + 1);
        h.width = int64_t(bits & 0x3fff) + 1;
        h.height = int64_t((bits >> 14) & 0x3fff) + 1;
    } else if (std::memcmp(d + 12, "VP8X", 4) == 0) {  // extended: flags, 24-bit canvas sides - 1
        if (avail < 10) return false;
        h.animated = (c[0] & 0x02) != 0;
        h.width = int64_t(c[4] | c[5] << 8 | c[6] << 16) + 1;
        h.height = int64_t(c[7] | c[8] << 8 | c[9] << 16) + 1;
        for (size_t off = 12; n - off >= 8;) {
            const uint32_t len = le32(d + off + 4);
            if (len > n - off - 8) break;
            if (std::memcmp(d + off, "EXIF", 4) == 0) {
                h.orientation = exif_orientation(d + off + 8, len);
                break;
            }
            off += 8 + size_t(len) + (len & 1);  // chunks are padded to even sizes
            if (off > n) break;                   // a last odd-sized chunk without its pad byte
        }
    } else {
        return false;
    }
    return h.width > 0 && h.height > 0;
}

}  // namespace

const char* format_name(ImageFormat format) {
    switch (format) {
        case ImageFormat::png: return "PNG";
        case ImageFormat::jpeg: return "JPEG";
        case ImageFormat::gif: return "GIF";
        case ImageFormat::bmp: return "BMP";
        case ImageFormat::tiff: return "TIFF";
        case ImageFormat::webp: return "WebP";
        case ImageFormat::unknown: break;
    }
    return "unknown";
}

ImageFormat sniff_format(const uint8_t* data, size_t size) {
    for (const Magic& m : kMagics) {
        if (size >= m.offset + m.size && std::memcmp(data + m.offset, m.bytes, m.size) == 0) {
            if (m.format == ImageFormat::webp && std::memcmp(data, "RIFF", 4) != 0) continue;
            return m.format;
        }
    }
    // A file cut inside its magic bytes is a truncated image rather than some other file.
    if (size >= 2) {
        for (const Magic& m : kMagics) {
            if (m.offset == 0 && m.size > 2 && size < m.size && std::memcmp(data, m.bytes, size) == 0) return m.format;
        }
    }
    return ImageFormat::unknown;
}

bool read_header(const uint8_t* data, size_t size, ImageFormat format, ImageHeader& header) {
    header = ImageHeader{};
    header.format = format;
    switch (format) {
        case ImageFormat::png: return png_header(data, size, header);
        case ImageFormat::jpeg: return jpeg_walk(data, size, &header) != 0 && header.width > 0 && header.height > 0;
        case ImageFormat::gif: {
            GifLayout g;
            if (!parse_gif(data, size, g)) return false;
            header.width = g.canvas_width;
            header.height = g.canvas_height;
            return header.width > 0 && header.height > 0;
        }
        case ImageFormat::bmp: return bmp_header(data, size, header);
        case ImageFormat::tiff: return tiff_header(data, size, header);
        case ImageFormat::webp: return webp_header(data, size, header);
        case ImageFormat::unknown: break;
    }
    return false;
}

bool gdal_could_claim(const uint8_t* data, size_t size) {
    return size >= 144 && std::memcmp(data + 140, "DTED", 4) == 0;
}

bool jpeg_is_complete(const uint8_t* data, size_t size) {
    const size_t scan = jpeg_walk(data, size, nullptr);
    if (scan == 0) return false;
    // Entropy-coded bytes never contain FF D9 (an FF in them is followed by 00 or a restart
    // marker), so an EOI anywhere after the first scan means the data did not stop short.
    for (size_t i = scan; i + 1 < size; ++i) {
        const uint8_t* p = static_cast<const uint8_t*>(std::memchr(data + i, 0xff, size - 1 - i));
        if (!p) return false;
        i = size_t(p - data);
        if (p[1] == 0xd9) return true;
    }
    return false;
}

}  // namespace gd::image_detail
