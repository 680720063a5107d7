// TIFF structures: the first directory of a TIFF file (its size) and of an EXIF block (its
// orientation). Both are the same layout: a byte-order mark, then directories of 12-byte entries
// (20 bytes in BigTIFF). Offsets come from the file, so every read is checked against the size.
#include <cstring>

#include "vision/image/image_format.h"
#include "vision/image/tiff_ifd.h"

namespace gd::image_detail {

namespace {

struct TiffReader {
    const uint8_t* p;
    size_t n;
    bool little;
    bool big_tiff = false;

    bool has(uint64_t off, uint64_t len) const { return off <= n && len <= n - off; }
    uint16_t u16(uint64_t off) const { return little ? le16(p + off) : be16(p + off); }
    uint32_t u32(uint64_t off) const { return little ? le32(p + off) : be32(p + off); }
    uint64_t u64(uint64_t off) const {
        const uint64_t a = u32(off), b = u32(off + 4);
        return little ? (b << 32 | a) : (a << 32 | b);
    }
};

}  // namespace

int tiff_first_ifd_tag(const uint8_t* tiff, size_t size, uint16_t tag, uint64_t& value) {
    if (size < 8) return -1;
    TiffReader r{tiff, size, tiff[0] == 'I'};
    if (!((tiff[0] == 'I' && tiff[1] == 'I') || (tiff[0] == 'M' && tiff[1] == 'M'))) return -1;
    const uint16_t version = r.u16(2);
    uint64_t ifd = 0;
    if (version == 42) {
        ifd = r.u32(4);
    } else if (version == 43) {  // BigTIFF: 8-byte offsets and counts
        if (size < 16 || r.u16(4) != 8) return -1;
        r.big_tiff = true;
        ifd = r.u64(8);
    } else {
        return -1;
    }
    const uint64_t count_size = r.big_tiff ? 8 : 2, entry_size = r.big_tiff ? 20 : 12;
    if (!r.has(ifd, count_size)) return -1;
    const uint64_t entries = r.big_tiff ? r.u64(ifd) : r.u16(ifd);
    // An entry count that cannot fit in the file is damage, not a reason to loop for long.
    if (entries > (size - ifd - count_size) / entry_size) return -1;
    for (uint64_t i = 0; i < entries; ++i) {
        const uint64_t e = ifd + count_size + i * entry_size;
        if (r.u16(e) != tag) continue;
        const uint16_t type = r.u16(e + 2);
        const uint64_t count = r.big_tiff ? r.u64(e + 4) : r.u32(e + 4);
        const uint64_t v = e + (r.big_tiff ? 12 : 8);  // small values sit in the entry itself
        if (count < 1) return -1;
        if (type == 3) value = r.u16(v);                          // SHORT
        else if (type == 4) value = r.u32(v);                     // LONG
        else if (type == 16 && r.big_tiff) value = r.u64(v);      // LONG8
        else return -1;
        return 1;
    }
    return 0;
}

int exif_orientation(const uint8_t* exif, size_t size) {
    // EXIF blocks in JPEG APP1 always start with "Exif\0\0"; in PNG eXIf and WebP EXIF chunks
    // writers differ, and PIL accepts both.
    if (size >= 6 && std::memcmp(exif, "Exif\0\0", 6) == 0) {
        exif += 6;
        size -= 6;
    }
    uint64_t v = 0;
    if (tiff_first_ifd_tag(exif, size, 0x0112, v) != 1) return 1;
    return v >= 1 && v <= 8 ? int(v) : 1;
}

}  // namespace gd::image_detail
