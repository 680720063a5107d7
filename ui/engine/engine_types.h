#pragma once
// Plain values that cross between the UI thread and the engine worker thread (queued signals copy
// them). Qt types only: the UI never sees engine or backend types.
#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace gd::ui {

struct LoadRequest {
    QStringList paths;        // what gd::LoadOptions::paths takes: an HF folder, or a GGUF (+ mmproj)
    int threads = 0;          // 0 = one per core
    qint64 context = 8192;    // capped at the model's maximum by the engine
    qint64 gpuLayers = -1;    // decoder layers on the GPU from the first (gd::LoadOptions::gpu_layers):
                              // -1 = as many as fit, 0 = the CPU only (a fit plan's choice)
    int gpu = 0;              // which CUDA device
    QString quantize;         // "q4_k", "q8_0": re-encode the weights while loading (a fit plan's
                              // load-time quantization); empty = as stored
};

struct SamplingSettings {
    double temperature = 1.0;  // 0 = greedy
    int topK = 64;
    double topP = 0.95;
    double minP = 0.0;
    quint64 seed = 0;          // 0 = a new random seed per answer
};

// What the loaded model is, for the status bar and the defaults of the settings.
struct ModelInfo {
    QString name;              // file or folder name
    QString variant;           // "e2b", "e4b", "26b-a4b", "31b", "custom"
    QString quantization;      // dominant weight type
    QString device;            // "CPU, 2 threads"
    qint64 context = 0;        // tokens a conversation may hold
    qint64 maxContext = 0;     // the model's maximum
    bool vision = false, audio = false;  // vision: the loaded model takes images (has its tower)
    double loadSeconds = 0;
    SamplingSettings defaults; // from the model's generation config
    QString defaultsSource;
};

// An image of a user's turn: the worker decodes the file and encodes it with the vision tower at
// `budget` soft tokens (one of 70, 140, 280, 560, 1120) when the turn is new to the engine.
struct ImageAttachment {
    QString path;              // absolute: the app's stored copy, which does not move
    QString name;              // for messages ("photo.jpg")
    int budget = 280;
    bool operator==(const ImageAttachment&) const = default;
};

// A sound of a user's turn (a recording or an audio file): the worker decodes the file to 16 kHz
// mono and encodes it with the audio tower when the turn is new to the engine.
struct AudioAttachment {
    QString path;              // absolute: the app's stored copy
    QString name;              // for messages ("Recording 14:02:11")
    bool operator==(const AudioAttachment&) const = default;
};

struct ChatTurn {
    QString role;              // "user" or "assistant" (the system prompt travels separately)
    QString text;
    QList<ImageAttachment> images;  // user turns; sent before the text, as the model was trained
    QList<AudioAttachment> audio;   // user turns; after the images, before the text
};

struct GenerateRequest {
    quint64 id = 0;            // echoed in every signal about this answer
    QString system;
    QList<ChatTurn> turns;     // the conversation so far, ending with the user's turn
    bool thinking = false;
    SamplingSettings sampling;
    qint64 maxTokens = 2048;
};

struct GenerationSummary {
    QString finishReason;      // "stop", "length", "context_full", "cancelled", "stopped"
    qint64 promptTokens = 0, prefilledTokens = 0, generatedTokens = 0;
    qint64 audioTokens = 0;    // soft tokens of the conversation's sounds in the prompt
    double tokensPerSecond = 0, promptTokensPerSecond = 0, timeToFirstToken = 0;
    qint64 contextUsed = 0, contextSize = 0;
    quint64 peakRssBytes = 0;
};

}  // namespace gd::ui

Q_DECLARE_METATYPE(gd::ui::LoadRequest)
Q_DECLARE_METATYPE(gd::ui::ModelInfo)
Q_DECLARE_METATYPE(gd::ui::GenerateRequest)
Q_DECLARE_METATYPE(gd::ui::GenerationSummary)
