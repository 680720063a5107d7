#include "settings/app_settings.h"

#include <QDir>
#include <QStandardPaths>
#include <algorithm>
#include <cstdlib>
#include "vision/image/image_preprocess.h"

namespace gd::ui {

namespace {
const QString kTemperature = QStringLiteral("sampling/temperature");
const QString kTopK = QStringLiteral("sampling/top_k");
const QString kTopP = QStringLiteral("sampling/top_p");
const QString kMinP = QStringLiteral("sampling/min_p");
const QString kSeed = QStringLiteral("sampling/seed");
}  // namespace

AppSettings::AppSettings(const QString& iniPath)
    : settings_(std::make_unique<QSettings>(iniPath, QSettings::IniFormat)) {}

QString AppSettings::systemPrompt() const { return settings_->value("chat/system_prompt").toString(); }
void AppSettings::setSystemPrompt(const QString& s) { settings_->setValue("chat/system_prompt", s); }
bool AppSettings::thinking() const { return settings_->value("chat/thinking", false).toBool(); }
void AppSettings::setThinking(bool on) { settings_->setValue("chat/thinking", on); }
qint64 AppSettings::contextLength() const {
    return std::clamp<qint64>(settings_->value("engine/context", 8192).toLongLong(), 256, 262144);
}
void AppSettings::setContextLength(qint64 tokens) { settings_->setValue("engine/context", tokens); }
qint64 AppSettings::maxAnswerTokens() const {
    return std::clamp<qint64>(settings_->value("chat/max_answer_tokens", 4096).toLongLong(), 1, 262144);
}
void AppSettings::setMaxAnswerTokens(qint64 tokens) { settings_->setValue("chat/max_answer_tokens", tokens); }
int AppSettings::threads() const { return qBound(0, settings_->value("engine/threads", 0).toInt(), 1024); }
void AppSettings::setThreads(int n) { settings_->setValue("engine/threads", n); }
QString AppSettings::device() const { return settings_->value("engine/device", "auto").toString(); }
void AppSettings::setDevice(const QString& d) { settings_->setValue("engine/device", d); }

int AppSettings::imageBudget() const {
    const int wanted = settings_->value("chat/image_budget", int(gd::kDefaultImageTokens)).toInt();
    int best = int(gd::kImageBudgets[0]);
    for (int64_t b : gd::kImageBudgets)
        if (std::abs(int(b) - wanted) < std::abs(best - wanted)) best = int(b);
    return best;
}
void AppSettings::setImageBudget(int tokens) { settings_->setValue("chat/image_budget", tokens); }

QByteArray AppSettings::microphoneId() const { return settings_->value("voice/microphone").toByteArray(); }
void AppSettings::setMicrophoneId(const QByteArray& id) { settings_->setValue("voice/microphone", id); }
bool AppSettings::readAnswersAloud() const { return settings_->value("voice/read_answers_aloud", false).toBool(); }
void AppSettings::setReadAnswersAloud(bool on) { settings_->setValue("voice/read_answers_aloud", on); }
QString AppSettings::speechVoice() const { return settings_->value("voice/speech_voice").toString(); }
void AppSettings::setSpeechVoice(const QString& name) { settings_->setValue("voice/speech_voice", name); }

SamplingSettings AppSettings::sampling(const SamplingSettings& d) const {
    SamplingSettings s = d;
    s.temperature = qBound(0.0, settings_->value(kTemperature, d.temperature).toDouble(), 5.0);
    s.topK = qBound(0, settings_->value(kTopK, d.topK).toInt(), 1 << 20);
    s.topP = qBound(0.0, settings_->value(kTopP, d.topP).toDouble(), 1.0);
    s.minP = qBound(0.0, settings_->value(kMinP, d.minP).toDouble(), 1.0);
    s.seed = settings_->value(kSeed, d.seed).toULongLong();
    return s;
}

bool AppSettings::samplingOverridden() const {
    for (const QString& k : {kTemperature, kTopK, kTopP, kMinP, kSeed})
        if (settings_->contains(k)) return true;
    return false;
}

void AppSettings::setSampling(const SamplingSettings& v, const SamplingSettings& d) {
    auto put = [this](const QString& key, const QVariant& value, bool differs) {
        if (differs) settings_->setValue(key, value);
        else settings_->remove(key);
    };
    put(kTemperature, v.temperature, !qFuzzyCompare(1.0 + v.temperature, 1.0 + d.temperature));
    put(kTopK, v.topK, v.topK != d.topK);
    put(kTopP, v.topP, !qFuzzyCompare(1.0 + v.topP, 1.0 + d.topP));
    put(kMinP, v.minP, !qFuzzyCompare(1.0 + v.minP, 1.0 + d.minP));
    put(kSeed, v.seed, v.seed != d.seed);
}

void AppSettings::resetSampling() { settings_->remove(QStringLiteral("sampling")); }

QStringList AppSettings::lastModelPaths() const { return settings_->value("models/last").toStringList(); }
void AppSettings::setLastModelPaths(const QStringList& paths) { settings_->setValue("models/last", paths); }
QStringList AppSettings::modelFolders() const { return settings_->value("models/folders").toStringList(); }
void AppSettings::setModelFolders(const QStringList& f) { settings_->setValue("models/folders", f); }
QString AppSettings::downloadFolder() const {
    const QString fallback = QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath("models");
    return settings_->value("models/download_folder", fallback).toString();
}
void AppSettings::setDownloadFolder(const QString& folder) { settings_->setValue("models/download_folder", folder); }
QByteArray AppSettings::windowState(const QString& key) const { return settings_->value("window/" + key).toByteArray(); }
void AppSettings::setWindowState(const QString& key, const QByteArray& s) { settings_->setValue("window/" + key, s); }

}  // namespace gd::ui
