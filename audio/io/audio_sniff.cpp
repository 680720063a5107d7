// looks_like_audio: the first bytes of the common audio containers. Used to route a dropped or
// pasted file to the audio path before anything is decoded, so it must be cheap and must not
// claim text or images; a false "yes" only costs a decode attempt that fails with a clear message.
#include <cstring>

#include "audio/io/audio_decode.h"

namespace gd {

namespace {

bool starts(const uint8_t* d, size_t n, const char* magic, size_t at = 0) {
    const size_t len = std::strlen(magic);
    return n >= at + len && std::memcmp(d + at, magic, len) == 0;
}

// An MPEG-1/2/2.5 audio frame header (layer I, II or III): 11 sync bits, then fields none of
// which may hold its reserved value. Layer bits 00 belong to ADTS below.
bool mpeg_audio_frame(const uint8_t* d, size_t n) {
    if (n < 3 || d[0] != 0xFF || (d[1] & 0xE0) != 0xE0) return false;
    // FF FE is the UTF-16 little-endian byte-order mark; as MPEG it would be a rare layer I
    // frame with CRC, and text files starting with it are far more common.
    if (d[1] == 0xFE) return false;
    const int version = (d[1] >> 3) & 3, layer = (d[1] >> 1) & 3;
    const int bitrate = d[2] >> 4, rate = (d[2] >> 2) & 3;
    return version != 1 && layer != 0 && bitrate != 15 && rate != 3;
}

// ADTS (raw AAC): 12 sync bits, layer 00, and a sampling-frequency index below 13.
bool adts_frame(const uint8_t* d, size_t n) {
    return n >= 3 && d[0] == 0xFF && (d[1] & 0xF6) == 0xF0 && ((d[2] >> 2) & 0xF) < 13;
}

}  // namespace

bool looks_like_audio(const void* data, size_t size) {
    if (!data) return false;
    const auto* d = static_cast<const uint8_t*>(data);
    const size_t n = size;
    if ((starts(d, n, "RIFF") || starts(d, n, "RF64") || starts(d, n, "BW64")) && starts(d, n, "WAVE", 8)) return true;
    if (starts(d, n, "FORM") && (starts(d, n, "AIFF", 8) || starts(d, n, "AIFC", 8))) return true;
    if (starts(d, n, "ID3") || starts(d, n, "fLaC") || starts(d, n, "OggS") || starts(d, n, "caff")) return true;
    if (starts(d, n, "\x1A\x45\xDF\xA3")) return true;  // EBML: Matroska, WebM
    if (starts(d, n, "ftyp", 4)) return true;             // ISO-BMFF: M4A, MP4, 3GP, MOV
    if (starts(d, n, ".snd") || starts(d, n, "#!AMR") || starts(d, n, "wvpk")) return true;  // AU, AMR, WavPack
    // ASF (WMA, WMV) header object GUID.
    if (starts(d, n, "\x30\x26\xB2\x75\x8E\x66\xCF\x11")) return true;
    return mpeg_audio_frame(d, n) || adts_frame(d, n);
}

}  // namespace gd
