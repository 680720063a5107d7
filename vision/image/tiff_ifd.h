#pragma once
// Internal to gd_image: one tag of the first directory of a TIFF structure (a TIFF file, or the
// body of an EXIF block). Classic TIFF and BigTIFF, either byte order.
#include <cstddef>
#include <cstdint>

namespace gd::image_detail {

// 1: found, `value` set (SHORT, LONG or LONG8 types); 0: the tag is absent; -1: malformed.
int tiff_first_ifd_tag(const uint8_t* tiff, size_t size, uint16_t tag, uint64_t& value);

}  // namespace gd::image_detail
