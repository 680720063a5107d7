#include "settings/settings_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QAudioDevice>
#include <QMediaDevices>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <thread>
#include "backend/device_query.h"
#include "vision/image/image_preprocess.h"
#include "audio/answer_speaker.h"
#include "settings/app_settings.h"

namespace gd::ui {

namespace {
template <typename W>
W* named(W* w, const char* objectName, const QString& accessible) {
    w->setObjectName(QString::fromLatin1(objectName));
    w->setAccessibleName(accessible);
    return w;
}
}  // namespace

SettingsDialog::SettingsDialog(AppSettings& settings, const std::optional<ModelInfo>& model, QWidget* parent,
                               AnswerSpeaker* speaker)
    : QDialog(parent), settings_(settings), model_(model), speaker_(speaker) {
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    setMinimumWidth(600);
    auto* col = new QVBoxLayout(this);

    auto* chat = new QGroupBox(tr("Conversation"), this);
    auto* cf = new QFormLayout(chat);
    system_ = named(new QPlainTextEdit(chat), "systemPromptEdit", tr("System prompt"));
    system_->setPlaceholderText(tr("Optional instructions the model follows in every chat"));
    system_->setFixedHeight(90);
    cf->addRow(tr("System prompt"), system_);
    thinking_ = named(new QCheckBox(tr("Let the model think before answering"), chat), "thinkingCheck", tr("Thinking"));
    cf->addRow(tr("Thinking"), thinking_);
    maxTokens_ = named(new QSpinBox(chat), "maxTokensSpin", tr("Longest answer in tokens"));
    maxTokens_->setRange(16, 262144);
    maxTokens_->setSingleStep(256);
    cf->addRow(tr("Longest answer"), maxTokens_);
    imageBudget_ = named(new QComboBox(chat), "imageBudgetCombo", tr("Default image detail"));
    imageBudget_->setToolTip(tr("Soft tokens an attached image starts at; each image has its own slider too. "
                                "More detail: the model sees a larger image, which costs more memory and time."));
    for (int64_t b : gd::kImageBudgets) {
        const QString note = b == gd::kImageBudgets[0] ? tr(" (fastest)")
                             : b == gd::kDefaultImageTokens ? tr(" (recommended)")
                             : b == gd::kMaxImageTokens ? tr(" (finest detail)") : QString();
        imageBudget_->addItem(tr("%1 tokens%2").arg(b).arg(note), int(b));
    }
    cf->addRow(tr("Default image detail"), imageBudget_);
    col->addWidget(chat);

    auto* voice = new QGroupBox(tr("Voice"), this);
    auto* vf = new QFormLayout(voice);
    microphone_ = named(new QComboBox(voice), "microphoneCombo", tr("Microphone"));
    microphone_->addItem(tr("System default"), QByteArray());
    const QList<QAudioDevice> inputs = QMediaDevices::audioInputs();
    for (const QAudioDevice& d : inputs) microphone_->addItem(d.description(), d.id());
    if (inputs.isEmpty()) microphone_->setToolTip(tr("No microphone was found."));
    const int mic = microphone_->findData(settings_.microphoneId());
    // A stored microphone that is not connected now stays chosen, so it is used again when it returns.
    if (mic >= 0) microphone_->setCurrentIndex(mic);
    else if (!settings_.microphoneId().isEmpty()) {
        microphone_->addItem(tr("%1 (not connected)").arg(QString::fromUtf8(settings_.microphoneId())), settings_.microphoneId());
        microphone_->setCurrentIndex(microphone_->count() - 1);
    }
    vf->addRow(tr("Microphone"), microphone_);
    readAloud_ = named(new QCheckBox(tr("Read answers aloud when they are finished"), voice), "readAloudCheck",
                       tr("Read answers aloud"));
    readAloud_->setToolTip(tr("The answer's text is spoken on this computer (thinking and code blocks are left out). "
                              "Sending a new message stops it."));
    vf->addRow(tr("Spoken replies"), readAloud_);
    voice_ = named(new QComboBox(voice), "voiceCombo", tr("Voice"));
    voice_->addItem(tr("Default voice"), QString());
    vf->addRow(tr("Voice"), voice_);
    voiceNote_ = new QLabel(voice);
    voiceNote_->setObjectName(QStringLiteral("voiceNote"));
    voiceNote_->setWordWrap(true);
    voiceNote_->hide();
    vf->addRow(voiceNote_);
    col->addWidget(voice);
    connect(readAloud_, &QCheckBox::toggled, this, [this](bool on) {
        if (on) fillVoices();
    });

    auto* sampling = new QGroupBox(tr("Sampling"), this);
    auto* sf = new QFormLayout(sampling);
    temperature_ = named(new QDoubleSpinBox(sampling), "temperatureSpin", tr("Temperature"));
    temperature_->setRange(0.0, 5.0);
    temperature_->setSingleStep(0.05);
    temperature_->setToolTip(tr("0 always picks the most likely token"));
    sf->addRow(tr("Temperature"), temperature_);
    topK_ = named(new QSpinBox(sampling), "topKSpin", tr("Top K"));
    topK_->setRange(0, 1 << 20);
    topK_->setSpecialValueText(tr("off"));
    sf->addRow(tr("Top K"), topK_);
    topP_ = named(new QDoubleSpinBox(sampling), "topPSpin", tr("Top P"));
    topP_->setRange(0.0, 1.0);
    topP_->setSingleStep(0.01);
    sf->addRow(tr("Top P"), topP_);
    minP_ = named(new QDoubleSpinBox(sampling), "minPSpin", tr("Min P"));
    minP_->setRange(0.0, 1.0);
    minP_->setSingleStep(0.01);
    sf->addRow(tr("Min P"), minP_);
    seed_ = named(new QSpinBox(sampling), "seedSpin", tr("Seed"));
    seed_->setRange(0, INT_MAX);
    seed_->setSpecialValueText(tr("random"));
    sf->addRow(tr("Seed"), seed_);
    defaultsNote_ = new QLabel(sampling);
    defaultsNote_->setObjectName(QStringLiteral("defaultsNote"));
    defaultsNote_->setWordWrap(false);  // (a wrapped label in a form row gets clipped)
    auto* reset = named(new QPushButton(tr("Use the model's defaults"), sampling), "resetSamplingButton",
                        tr("Use the model's sampling defaults"));
    sf->addRow(defaultsNote_);
    sf->addRow(reset);
    col->addWidget(sampling);
    connect(reset, &QPushButton::clicked, this, [this] { showSampling(modelDefaults()); });

    auto* engine = new QGroupBox(tr("Engine"), this);
    auto* ef = new QFormLayout(engine);
    context_ = named(new QSpinBox(engine), "contextSpin", tr("Context length in tokens"));
    context_->setRange(256, model_ && model_->maxContext > 0 ? int(qMin<qint64>(model_->maxContext, 262144)) : 262144);
    context_->setSingleStep(1024);
    context_->setToolTip(tr("How much of a conversation the model sees. Longer needs more memory."));
    ef->addRow(tr("Context length"), context_);
    threads_ = named(new QSpinBox(engine), "threadsSpin", tr("CPU threads"));
    threads_->setRange(0, 1024);
    threads_->setSpecialValueText(tr("automatic (%1)").arg(std::max(1, int(std::thread::hardware_concurrency()) - 1)));
    ef->addRow(tr("CPU threads"), threads_);
    device_ = named(new QComboBox(engine), "deviceCombo", tr("Device"));
    device_->addItem(tr("Automatic"), QStringLiteral("auto"));
    device_->addItem(tr("CPU"), QStringLiteral("cpu"));
    const gd::DeviceReport gpus = gd::query_cuda_devices();
    for (const gd::GpuInfo& g : gpus.gpus) {
        device_->addItem(tr("GPU %1: %2 (%3 GB) — not supported by this build yet")
                             .arg(g.index).arg(QString::fromStdString(g.name))
                             .arg(double(g.total_bytes) / 1e9, 0, 'f', 1),
                         QStringLiteral("cuda:%1").arg(g.index));
        // The CUDA backend arrives in a later release: shown so the user sees what was detected.
        auto* items = qobject_cast<QStandardItemModel*>(device_->model());
        if (items) items->item(device_->count() - 1)->setEnabled(false);
    }
    ef->addRow(tr("Device"), device_);
    col->addWidget(engine);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->setObjectName(QStringLiteral("settingsButtons"));
    col->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);

    system_->setPlainText(settings_.systemPrompt());
    thinking_->setChecked(settings_.thinking());
    maxTokens_->setValue(int(qMin<qint64>(settings_.maxAnswerTokens(), maxTokens_->maximum())));
    imageBudget_->setCurrentIndex(qMax(0, imageBudget_->findData(settings_.imageBudget())));
    readAloud_->setChecked(settings_.readAnswersAloud());
    if (!settings_.speechVoice().isEmpty()) {
        voice_->addItem(settings_.speechVoice(), settings_.speechVoice());
        voice_->setCurrentIndex(1);
    }
    if (readAloud_->isChecked()) fillVoices();
    showSampling(settings_.sampling(modelDefaults()));
    context_->setValue(int(qMin<qint64>(settings_.contextLength(), context_->maximum())));
    shownContext_ = context_->value();
    threads_->setValue(settings_.threads());
    const int d = device_->findData(settings_.device());
    device_->setCurrentIndex(d >= 0 ? d : 0);
    defaultsNote_->setText(model_ ? tr("Model defaults: temperature %1, top K %2, top P %3, min P %4")
                                        .arg(model_->defaults.temperature).arg(model_->defaults.topK)
                                        .arg(model_->defaults.topP).arg(model_->defaults.minP)
                                  : tr("Load a model to see its recommended defaults."));
    if (model_) defaultsNote_->setToolTip(tr("From %1 of %2").arg(model_->defaultsSource, model_->name));
}

void SettingsDialog::fillVoices() {
    if (voicesFilled_ || !speaker_) return;
    voicesFilled_ = true;
    if (!speaker_->available()) {
        voiceNote_->setText(speaker_->unavailableReason());
        voiceNote_->show();
        voice_->setEnabled(false);
        return;
    }
    const QString chosen = voice_->currentData().toString();
    voice_->clear();
    voice_->addItem(tr("Default voice"), QString());
    for (const QString& name : speaker_->voiceNames()) voice_->addItem(name, name);
    voice_->setCurrentIndex(qMax(0, voice_->findData(chosen)));
    voiceNote_->setText(tr("Speech engine: %1").arg(speaker_->engineName()));
    voiceNote_->show();
}

SamplingSettings SettingsDialog::modelDefaults() const { return model_ ? model_->defaults : SamplingSettings{}; }

void SettingsDialog::showSampling(const SamplingSettings& s) {
    temperature_->setValue(s.temperature);
    topK_->setValue(s.topK);
    topP_->setValue(s.topP);
    minP_->setValue(s.minP);
    seed_->setValue(int(qMin<quint64>(s.seed, INT_MAX)));
}

void SettingsDialog::accept() {
    // Compared with what the dialog showed (the stored context may exceed this model's maximum).
    reloadNeeded_ = context_->value() != shownContext_ || threads_->value() != settings_.threads() ||
                    device_->currentData().toString() != settings_.device();
    settings_.setSystemPrompt(system_->toPlainText());
    settings_.setThinking(thinking_->isChecked());
    settings_.setMaxAnswerTokens(maxTokens_->value());
    settings_.setImageBudget(imageBudget_->currentData().toInt());
    settings_.setMicrophoneId(microphone_->currentData().toByteArray());
    settings_.setReadAnswersAloud(readAloud_->isChecked());
    settings_.setSpeechVoice(voice_->currentData().toString());
    SamplingSettings s;
    s.temperature = temperature_->value();
    s.topK = topK_->value();
    s.topP = topP_->value();
    s.minP = minP_->value();
    s.seed = quint64(seed_->value());
    settings_.setSampling(s, modelDefaults());
    settings_.setContextLength(context_->value());
    settings_.setThreads(threads_->value());
    settings_.setDevice(device_->currentData().toString());
    settings_.sync();
    QDialog::accept();
}

}  // namespace gd::ui
