#pragma once
// What FFmpeg may do with an untrusted audio file: which demuxers and decoders it may use, how
// much it reads to identify the file, and how loud it logs. One place, so the decoder and the
// fuzz target run under the same rules.
#include <string>

struct AVFormatContext;

namespace gd::audio_detail {

// Sets FFmpeg's process-wide log level to fatal-only, once (thread-safe). Damaged files make
// FFmpeg print a line per bad packet; our FormatError says what went wrong instead.
void quiet_ffmpeg_logs();

// Applies the policy to a fresh format context (before avformat_open_input): audio-capable
// demuxers only, audio decoders only while probing streams, no opening of further files or URLs
// (playlists and concat scripts could otherwise name any path on the machine), bounded probing.
// Throws std::bad_alloc when FFmpeg cannot copy the lists.
void apply_input_policy(AVFormatContext* fmt);

// Every audio decoder this FFmpeg build has, comma separated (computed once).
const std::string& audio_decoder_names();

}  // namespace gd::audio_detail
