#pragma once
// The Gemma 4 downloads the app offers a new user: which hub repositories and which of their files.
// Sizes are not stored here; they come from the hub's listing when the user asks for them.

#include <QList>
#include <QString>

#include <optional>

namespace gd::ui {

enum class HubFormat { Safetensors, Gguf };

struct HubOffering {
    QString id;    // stable key: the repo, plus ":QUANT" for GGUF offerings
    QString repo;  // "org/name" on the hub
    HubFormat format = HubFormat::Safetensors;
    QString variant;      // "E2B", "E4B", "26B-A4B" or "31B"
    QString quant;        // GGUF only: the tag the text-model file name carries, e.g. "Q4_K_M"
    QString publisher;    // who made the files, e.g. "Google", "ggml-org"
    QString description;  // one plain line for the list's tooltip

    // "text, image, audio" for E2B/E4B (they have the audio tower), "text, image" for the big ones.
    QString modalities() const;
    // "safetensors (bf16)" or "GGUF Q4_K_M".
    QString formatLabel() const;
};

// Every offering, official Google repos first, then GGUF conversions smallest variant first.
QList<HubOffering> hubCatalog();
std::optional<HubOffering> findOffering(const QString& id);

}  // namespace gd::ui
