#include "audio/io/ffmpeg_policy.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include <mutex>
#include <new>

namespace gd::audio_detail {

namespace {

// Containers people keep speech and music in, plus the video containers a clip may arrive in
// (the audio track is used). FFmpeg matches any name of a demuxer's list, so "mov" admits
// mov/mp4/m4a/3gp and "matroska" admits webm. Everything else (images, subtitles, playlists,
// hundreds of obscure game and camera formats) is refused before a demuxer parses it.
constexpr const char* kAudioDemuxers =
    "wav,w64,aiff,caf,au,voc,sox,"              // PCM containers
    "mp3,aac,loas,flac,ogg,matroska,mov,asf,"  // compressed audio (ogg: Vorbis, Opus, FLAC, Speex)
    "wv,ape,tta,shn,mpc,mpc8,dsf,oma,xwma,amr,amrnb,amrwb,gsm,ac3,eac3,dts,mlp,truehd,"
    "avi,flv,mpeg,mpegts,rm,nut";  // video files with a sound track

// Identifying the container reads at most 1 MiB (FFmpeg's own ceiling); finding the streams'
// parameters at most 2 MiB or 5 s of media. Both are bounded whatever the file claims.
constexpr int kFormatProbeBytes = 1 << 20;
constexpr int64_t kStreamProbeBytes = 2 << 20;
constexpr int64_t kStreamProbeMicros = 5 * int64_t{AV_TIME_BASE};

int refuse_nested_open(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) { return AVERROR(EPERM); }

char* copy_or_throw(const char* text) {
    char* copy = av_strdup(text);
    if (!copy) throw std::bad_alloc();
    return copy;
}

}  // namespace

void quiet_ffmpeg_logs() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_level(AV_LOG_FATAL); });
}

const std::string& audio_decoder_names() {
    static const std::string names = [] {
        std::string list;
        void* it = nullptr;
        while (const AVCodec* c = av_codec_iterate(&it)) {
            if (c->type != AVMEDIA_TYPE_AUDIO || !av_codec_is_decoder(c)) continue;
            if (!list.empty()) list += ',';
            list += c->name;
        }
        return list;
    }();
    return names;
}

void apply_input_policy(AVFormatContext* fmt) {
    fmt->format_whitelist = copy_or_throw(kAudioDemuxers);
    // Used by avformat_find_stream_info: a video stream's decoder is never opened, so a clip's
    // pictures are not decoded (or attacked) just to find the sound.
    fmt->codec_whitelist = copy_or_throw(audio_decoder_names().c_str());
    // Two locks on the same door: demuxers that open side files call io_open, and those that
    // open a whole nested input (concat) make a new context, which inherits this protocol list
    // (no protocol is called "none") but not our io_open.
    fmt->io_open = &refuse_nested_open;
    fmt->protocol_whitelist = copy_or_throw("none");
    fmt->format_probesize = kFormatProbeBytes;
    fmt->probesize = kStreamProbeBytes;
    fmt->max_analyze_duration = kStreamProbeMicros;
}

}  // namespace gd::audio_detail
