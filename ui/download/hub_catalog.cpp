#include "download/hub_catalog.h"

#include <QCoreApplication>

namespace gd::ui {
namespace {

class CatalogText {
    Q_DECLARE_TR_FUNCTIONS(gd::ui::HubCatalog)
public:
    static QString officialDescription(const QString& variant) {
        return tr("Google's original Gemma 4 %1 instruction-tuned weights (bf16 safetensors): "
                  "the reference quality, and the largest download.")
            .arg(variant);
    }
    static QString ggufDescription(const QString& variant, const QString& quant, const QString& who) {
        return tr("Gemma 4 %1 converted to GGUF by %3, %2 quantization, with its vision/audio "
                  "projector (mmproj) file.")
            .arg(variant, quant, who);
    }
    static QString textImageAudio() { return tr("text, image, audio"); }
    static QString textImage() { return tr("text, image"); }
    static QString safetensorsLabel() { return tr("safetensors (bf16)"); }
    static QString ggufLabel(const QString& quant) { return tr("GGUF %1").arg(quant); }
};

HubOffering official(const QString& variant) {
    HubOffering o;
    o.repo = QStringLiteral("google/gemma-4-%1-it").arg(variant);
    o.id = o.repo;
    o.format = HubFormat::Safetensors;
    o.variant = variant;
    o.publisher = QStringLiteral("Google");
    o.description = CatalogText::officialDescription(variant);
    return o;
}

// Repository names follow the llama.cpp community convention "<org>/gemma-4-<variant>-it-GGUF";
// the quant file and the mmproj are picked from the listing by name (see hub_listing.cpp), so a
// publisher's exact file naming does not have to be known here.
HubOffering gguf(const QString& org, const QString& variant, const QString& quant) {
    HubOffering o;
    o.repo = QStringLiteral("%1/gemma-4-%2-it-GGUF").arg(org, variant);
    o.id = o.repo + QLatin1Char(':') + quant;
    o.format = HubFormat::Gguf;
    o.variant = variant;
    o.quant = quant;
    o.publisher = org;
    o.description = CatalogText::ggufDescription(variant, quant, org);
    return o;
}

}  // namespace

QString HubOffering::modalities() const {
    const bool small = variant.startsWith(QLatin1Char('E'));
    return small ? CatalogText::textImageAudio() : CatalogText::textImage();
}

QString HubOffering::formatLabel() const {
    return format == HubFormat::Safetensors ? CatalogText::safetensorsLabel() : CatalogText::ggufLabel(quant);
}

QList<HubOffering> hubCatalog() {
    const QString q4 = QStringLiteral("Q4_K_M");
    const QString q8 = QStringLiteral("Q8_0");
    const QString ggml = QStringLiteral("ggml-org");
    const QString unsloth = QStringLiteral("unsloth");
    const QString lmstudio = QStringLiteral("lmstudio-community");
    return {
        official(QStringLiteral("E2B")),
        official(QStringLiteral("E4B")),
        official(QStringLiteral("26B-A4B")),
        official(QStringLiteral("31B")),
        // ggml-org publishes E2B at Q8_0 only; the others at both.
        gguf(ggml, QStringLiteral("E2B"), q8),
        gguf(ggml, QStringLiteral("E4B"), q4),
        gguf(ggml, QStringLiteral("E4B"), q8),
        gguf(ggml, QStringLiteral("26B-A4B"), q4),
        gguf(ggml, QStringLiteral("26B-A4B"), q8),
        gguf(ggml, QStringLiteral("31B"), q4),
        gguf(ggml, QStringLiteral("31B"), q8),
        gguf(unsloth, QStringLiteral("E2B"), q4),
        gguf(unsloth, QStringLiteral("E4B"), q4),
        gguf(unsloth, QStringLiteral("E4B"), q8),
        gguf(unsloth, QStringLiteral("26B-A4B"), q4),
        gguf(unsloth, QStringLiteral("31B"), q4),
        gguf(lmstudio, QStringLiteral("E2B"), q4),
        gguf(lmstudio, QStringLiteral("E4B"), q4),
        gguf(lmstudio, QStringLiteral("26B-A4B"), q4),
    };
}

std::optional<HubOffering> findOffering(const QString& id) {
    for (const HubOffering& o : hubCatalog())
        if (o.id == id) return o;
    return std::nullopt;
}

}  // namespace gd::ui
