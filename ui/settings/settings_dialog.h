#pragma once
// Settings: system prompt, thinking, default image detail, voice (microphone, reading answers aloud
// and the voice), sampling (with the loaded model's defaults one click away),
// answer length, context length, threads and device. Reads from and writes to AppSettings on accept;
// tells the caller whether the model must be reloaded (context, threads or device changed).
#include <QDialog>
#include <optional>
#include "engine/engine_types.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QSpinBox;

namespace gd::ui {

class AnswerSpeaker;
class AppSettings;

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    // `speaker` lists the voices (asked only when reading aloud is on: the speech engine starts then).
    SettingsDialog(AppSettings& settings, const std::optional<ModelInfo>& model, QWidget* parent = nullptr,
                   AnswerSpeaker* speaker = nullptr);
    bool reloadNeeded() const { return reloadNeeded_; }

    void accept() override;

private:
    void showSampling(const SamplingSettings& s);
    SamplingSettings modelDefaults() const;
    void fillVoices();

    AppSettings& settings_;
    std::optional<ModelInfo> model_;
    QPlainTextEdit* system_ = nullptr;
    QCheckBox* thinking_ = nullptr;
    QDoubleSpinBox* temperature_ = nullptr;
    QSpinBox* topK_ = nullptr;
    QDoubleSpinBox* topP_ = nullptr;
    QDoubleSpinBox* minP_ = nullptr;
    QSpinBox* seed_ = nullptr;
    QSpinBox* maxTokens_ = nullptr;
    QComboBox* imageBudget_ = nullptr;
    AnswerSpeaker* speaker_ = nullptr;
    QComboBox* microphone_ = nullptr;
    QCheckBox* readAloud_ = nullptr;
    QComboBox* voice_ = nullptr;
    QLabel* voiceNote_ = nullptr;
    bool voicesFilled_ = false;
    QSpinBox* context_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QComboBox* device_ = nullptr;
    QLabel* defaultsNote_ = nullptr;
    bool reloadNeeded_ = false;
    int shownContext_ = 0;
};

}  // namespace gd::ui
