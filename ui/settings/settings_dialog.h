#pragma once
// Settings: system prompt, thinking, default image detail, sampling (with the loaded model's defaults one click away),
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

class AppSettings;

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    SettingsDialog(AppSettings& settings, const std::optional<ModelInfo>& model, QWidget* parent = nullptr);
    bool reloadNeeded() const { return reloadNeeded_; }

    void accept() override;

private:
    void showSampling(const SamplingSettings& s);
    SamplingSettings modelDefaults() const;

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
    QSpinBox* context_ = nullptr;
    QSpinBox* threads_ = nullptr;
    QComboBox* device_ = nullptr;
    QLabel* defaultsNote_ = nullptr;
    bool reloadNeeded_ = false;
    int shownContext_ = 0;
};

}  // namespace gd::ui
