#include "download/hub_listing.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QRegularExpression>

#include <algorithm>

namespace gd::ui {
namespace {

class ListingText {
    Q_DECLARE_TR_FUNCTIONS(gd::ui::HubListing)
public:
    static QString unsafePath(const QString& path) {
        return tr("The repository lists a file with an unsafe name (%1): not downloading it.").arg(path);
    }
    static QString noSafetensors(const QString& repo) {
        return tr("%1 has no config.json and .safetensors weights: pick another model.").arg(repo);
    }
    static QString noQuant(const QString& repo, const QString& quant) {
        return tr("%1 has no %2 file any more: pick another model.").arg(repo, quant);
    }
};

// Older listings spelled the LFS oid "sha256:<hex>"; only the hex is compared.
QString bareHex(QString oid) {
    const qsizetype colon = oid.indexOf(QLatin1Char(':'));
    if (colon >= 0) oid = oid.mid(colon + 1);
    return oid.toLower();
}

bool isSafeRelativePath(const QString& path) {
    if (path.isEmpty() || path.startsWith(QLatin1Char('/')) || path.contains(QLatin1Char('\\')) ||
        path.contains(QLatin1Char(':')))
        return false;
    for (const QString& part : path.split(QLatin1Char('/')))
        if (part.isEmpty() || part == QLatin1String(".") || part == QLatin1String("..")) return false;
    return true;
}

QString baseName(const QString& path) {
    return path.section(QLatin1Char('/'), -1);
}

// Folders and file kinds in official repos that the engine does not read (other runtimes' copies).
bool isOtherFormat(const QString& path) {
    static const QStringList folders = {
        QStringLiteral("original"), QStringLiteral("onnx"),     QStringLiteral("tflite"),
        QStringLiteral("litert"),   QStringLiteral("gguf"),     QStringLiteral("mlx"),
        QStringLiteral("coreml"),   QStringLiteral("openvino"), QStringLiteral("flax"),
    };
    static const QStringList suffixes = {
        QStringLiteral(".gguf"),   QStringLiteral(".onnx"),     QStringLiteral(".onnx_data"),
        QStringLiteral(".tflite"), QStringLiteral(".litertlm"), QStringLiteral(".task"),
        QStringLiteral(".pt"),     QStringLiteral(".pth"),      QStringLiteral(".msgpack"),
        QStringLiteral(".h5"),     QStringLiteral(".ckpt"),     QStringLiteral(".bin"),
    };
    const QString first = path.section(QLatin1Char('/'), 0, 0).toLower();
    if (path.contains(QLatin1Char('/')) && folders.contains(first)) return true;
    const QString name = baseName(path).toLower();
    if (name == QLatin1String(".gitattributes") || name == QLatin1String(".gitignore")) return true;
    return std::any_of(suffixes.begin(), suffixes.end(), [&](const QString& s) { return name.endsWith(s); });
}

// Sorted so small housekeeping files come first and the order is stable between runs.
void sortForDownload(QList<PlannedFile>& files) {
    std::stable_sort(files.begin(), files.end(), [](const PlannedFile& a, const PlannedFile& b) {
        if (a.remote.isLfs() != b.remote.isLfs()) return !a.remote.isLfs();
        return a.localPath < b.localPath;
    });
}

FileSelection selectSafetensors(const HubOffering& offering, const QList<HubFile>& listing) {
    FileSelection sel;
    bool hasConfig = false;
    bool hasWeights = false;
    for (const HubFile& f : listing) {
        if (isOtherFormat(f.path)) continue;
        if (!isSafeRelativePath(f.path)) {
            sel.error = ListingText::unsafePath(f.path);
            sel.files.clear();
            return sel;
        }
        hasConfig = hasConfig || f.path == QLatin1String("config.json");
        hasWeights = hasWeights || f.path.endsWith(QLatin1String(".safetensors"));
        sel.files.append({f, f.path});
    }
    if (!hasConfig || !hasWeights) {
        sel.files.clear();
        sel.error = ListingText::noSafetensors(offering.repo);
        return sel;
    }
    sortForDownload(sel.files);
    return sel;
}

// "gemma-4-31B-it-Q8_0-00001-of-00002.gguf" and its sibling parts share one stem.
QString splitStem(const QString& name) {
    static const QRegularExpression split(QStringLiteral("-\\d{5}-of-\\d{5}\\.gguf$"),
                                          QRegularExpression::CaseInsensitiveOption);
    QString stem = name;
    stem.replace(split, QStringLiteral(".gguf"));
    return stem;
}

// The projector a publisher ships next to the text model. Names vary ("mmproj-F16.gguf",
// "mmproj-gemma-4-E4B-it-bf16.gguf", "…-mmproj.gguf"), so the precision decides: f16 and bf16
// lose nothing, q8_0 is smaller, f32 is twice the size for no gain.
std::optional<HubFile> pickMmproj(const QList<HubFile>& ggufs) {
    static const QStringList preference = {QStringLiteral("f16"), QStringLiteral("bf16"),
                                           QStringLiteral("q8_0"), QStringLiteral("f32")};
    std::optional<HubFile> best;
    qsizetype bestRank = preference.size() + 1;
    for (const HubFile& f : ggufs) {
        const QString name = baseName(f.path).toLower();
        if (!name.contains(QLatin1String("mmproj"))) continue;
        qsizetype rank = preference.size();
        for (qsizetype i = 0; i < preference.size(); ++i) {
            const QRegularExpression tag(QStringLiteral("(^|[-_.])%1[-_.]").arg(preference[i]));
            if (tag.match(name).hasMatch()) {
                rank = i;
                break;
            }
        }
        if (!best || rank < bestRank || (rank == bestRank && f.path < best->path)) {
            best = f;
            bestRank = rank;
        }
    }
    return best;
}

FileSelection selectGguf(const HubOffering& offering, const QList<HubFile>& listing) {
    FileSelection sel;
    QList<HubFile> ggufs;
    for (const HubFile& f : listing)
        if (f.path.endsWith(QLatin1String(".gguf"), Qt::CaseInsensitive)) ggufs.append(f);

    // The quant tag must stand alone in the name ("-Q4_K_M." but not "IQ4_K_M" or "Q4_K_M_L").
    const QRegularExpression tag(
        QStringLiteral("(^|[-_.])%1[-_.]").arg(QRegularExpression::escape(offering.quant)),
        QRegularExpression::CaseInsensitiveOption);
    QMap<QString, QList<HubFile>> byStem;
    for (const HubFile& f : ggufs) {
        const QString name = baseName(f.path);
        if (name.contains(QLatin1String("mmproj"), Qt::CaseInsensitive)) continue;
        if (tag.match(name).hasMatch()) byStem[splitStem(name)].append(f);
    }
    if (byStem.isEmpty()) {
        sel.error = ListingText::noQuant(offering.repo, offering.quant);
        return sel;
    }
    // Publishers sometimes add variants of one quant ("UD-Q4_K_M"); the plain name is the shortest.
    QString stem = byStem.firstKey();
    for (auto it = byStem.cbegin(); it != byStem.cend(); ++it)
        if (it.key().size() < stem.size()) stem = it.key();

    QList<HubFile> parts = byStem.value(stem);
    std::sort(parts.begin(), parts.end(),
              [](const HubFile& a, const HubFile& b) { return baseName(a.path) < baseName(b.path); });
    // Everything lands flat in one folder so the engine finds the mmproj beside the model.
    QList<HubFile> chosen = parts;
    if (const auto mmproj = pickMmproj(ggufs)) chosen.append(*mmproj);
    for (const HubFile& f : chosen) {
        if (!isSafeRelativePath(f.path)) {
            sel.error = ListingText::unsafePath(f.path);
            sel.files.clear();
            return sel;
        }
        sel.files.append({f, baseName(f.path)});
    }
    sel.modelFile = baseName(parts.first().path);
    // The projector is small: fetch it first.
    std::stable_sort(sel.files.begin(), sel.files.end(), [](const PlannedFile& a, const PlannedFile& b) {
        return a.remote.size < b.remote.size;
    });
    return sel;
}

}  // namespace

std::optional<QList<HubFile>> parseTreeListing(const QByteArray& json) {
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
    if (err.error != QJsonParseError::NoError || !doc.isArray()) return std::nullopt;
    QList<HubFile> files;
    for (const QJsonValue& v : doc.array()) {
        if (!v.isObject()) return std::nullopt;
        const QJsonObject o = v.toObject();
        if (o.value(QLatin1String("type")).toString() != QLatin1String("file")) continue;
        HubFile f;
        f.path = o.value(QLatin1String("path")).toString();
        // Sizes beyond 2^53 cannot occur in practice; toDouble keeps 64-bit sizes exact below that.
        f.size = static_cast<quint64>(o.value(QLatin1String("size")).toDouble());
        f.gitOid = bareHex(o.value(QLatin1String("oid")).toString());
        const QJsonObject lfs = o.value(QLatin1String("lfs")).toObject();
        if (!lfs.isEmpty()) {
            f.sha256 = bareHex(lfs.value(QLatin1String("oid")).toString());
            if (lfs.contains(QLatin1String("size")))
                f.size = static_cast<quint64>(lfs.value(QLatin1String("size")).toDouble());
        }
        if (f.path.isEmpty()) return std::nullopt;
        files.append(f);
    }
    return files;
}

QUrl nextPageUrl(const QByteArray& linkHeader, const QUrl& current) {
    // Link: <https://huggingface.co/api/models/x/tree/main?recursive=true&cursor=abc>; rel="next"
    for (const QByteArray& raw : linkHeader.split(',')) {
        const QByteArray part = raw.trimmed();
        const qsizetype open = part.indexOf('<');
        const qsizetype close = part.indexOf('>');
        if (open < 0 || close < open) continue;
        const QByteArray params = part.mid(close + 1);
        if (!params.contains("rel=\"next\"") && !params.contains("rel=next")) continue;
        return current.resolved(QUrl::fromEncoded(part.mid(open + 1, close - open - 1)));
    }
    return {};
}

FileSelection selectFiles(const HubOffering& offering, const QList<HubFile>& listing) {
    return offering.format == HubFormat::Gguf ? selectGguf(offering, listing)
                                              : selectSafetensors(offering, listing);
}

quint64 totalSize(const QList<PlannedFile>& files) {
    quint64 sum = 0;
    for (const PlannedFile& f : files) sum += f.remote.size;
    return sum;
}

}  // namespace gd::ui
