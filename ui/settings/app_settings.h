#pragma once
// The user's settings, kept with QSettings in an INI file (by default in the standard config folder;
// tests and portable installs pass their own). Sampling values are stored only when the user
// changed them: otherwise the loaded model's generation config supplies them.
#include <QSettings>
#include <QStringList>
#include <memory>
#include <optional>
#include "engine/engine_types.h"

namespace gd::ui {

class AppSettings {
public:
    explicit AppSettings(const QString& iniPath);
    QString fileName() const { return settings_->fileName(); }
    void sync() { settings_->sync(); }

    QString systemPrompt() const;
    void setSystemPrompt(const QString& s);
    bool thinking() const;
    void setThinking(bool on);
    qint64 contextLength() const;           // tokens; capped by the model when loading
    void setContextLength(qint64 tokens);
    qint64 maxAnswerTokens() const;
    void setMaxAnswerTokens(qint64 tokens);
    int threads() const;                    // 0 = one per core
    void setThreads(int n);
    QString device() const;                 // "auto", "cpu" or "cuda:N"
    void setDevice(const QString& d);
    // Soft tokens a newly attached image starts at: one of 70, 140, 280, 560, 1120 (the nearest).
    int imageBudget() const;
    void setImageBudget(int tokens);

    // Voice: the microphone to record from (QAudioDevice::id(); empty = the system's default),
    // whether finished answers are read aloud, and the voice (a name of the speech engine's; empty
    // = its default).
    QByteArray microphoneId() const;
    void setMicrophoneId(const QByteArray& id);
    bool readAnswersAloud() const;
    void setReadAnswersAloud(bool on);
    QString speechVoice() const;
    void setSpeechVoice(const QString& name);

    // Sampling: the model's defaults with the user's overrides on top.
    SamplingSettings sampling(const SamplingSettings& modelDefaults) const;
    bool samplingOverridden() const;
    // Stores only the values that differ from the model's defaults.
    void setSampling(const SamplingSettings& values, const SamplingSettings& modelDefaults);
    void resetSampling();

    QStringList lastModelPaths() const;
    void setLastModelPaths(const QStringList& paths);
    QStringList modelFolders() const;       // folders the user added to the model picker
    void setModelFolders(const QStringList& folders);
    QString downloadFolder() const;
    void setDownloadFolder(const QString& folder);
    QByteArray windowState(const QString& key) const;
    void setWindowState(const QString& key, const QByteArray& state);

private:
    std::unique_ptr<QSettings> settings_;
};

}  // namespace gd::ui
