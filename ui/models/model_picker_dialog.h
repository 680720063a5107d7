#pragma once
// The model picker: the Gemma 4 models already on this computer (Hugging Face cache, Ollama,
// LM Studio and the user's folders, scanned on a background thread), what each is and the fit
// planner's plan for it on this machine (catalog/fit_plan.h: fits on the GPU, with offload, on the
// CPU only or not at all, the context it gets, why, and the memory of each part); a file can be
// opened directly, a folder added, or a model downloaded.
//
// A banner on top recommends the best plan for this machine: a model on disk (one click loads it
// with the plan's context) or, when none fits or none is there, a variant and weight type from the
// four published variants, with the download dialog opened on a matching offering.
//
// The machine (RAM, CUDA and Vulkan GPUs) is probed once per dialog on the scanning thread and kept;
// planning runs there too: nothing slow happens on the UI thread.
#include <QDialog>
#include <QStringList>
#include <functional>
#include <optional>
#include <vector>
#include "catalog/fit_plan.h"
#include "catalog/machine_probe.h"
#include "catalog/model_discovery.h"
#include "engine/engine_types.h"

class QFrame;
class QLabel;
class QPushButton;
class QTableView;

namespace gd::ui {

class AppSettings;
class ModelListModel;

class ModelPickerDialog : public QDialog {
    Q_OBJECT
public:
    ModelPickerDialog(AppSettings& settings, const QStringList& currentPaths, QWidget* parent = nullptr);
    ~ModelPickerDialog() override;

    void rescan();
    bool scanning() const { return scanning_; }
    ModelListModel* models() const { return model_; }
    QStringList chosenPaths() const { return chosenRequest_.paths; }
    // Selects the row for these paths (tests and "open file").
    bool select(const QStringList& loadPaths);
    // Shows only the models with an audio tower (E2B, E4B), with a note and a "Show all" button:
    // what the composer's microphone offers when the loaded model can't hear.
    void setAudioOnly(bool on);
    bool audioOnly() const { return audioOnly_; }

    // The machine to plan for instead of this one's (tests, and planning for another computer):
    // replaces the probed machine and scans again.
    void setMachine(const gd::MachineInfo& machine);
    // The probed (or given) machine, once known.
    const std::optional<gd::MachineInfo>& machine() const { return machine_; }
    bool planning() const { return planning_; }

    // The recommendation for this machine: a model on disk (row >= 0), a download (row -1, plan
    // of a published variant, offering id of the download dialog's matching entry, possibly empty),
    // or none (nothing fits, or still planning).
    struct Recommendation {
        enum class Kind { None, OnDisk, Download };
        Kind kind = Kind::None;
        gd::FitPlan plan;
        int row = -1;
        QString offeringId;
    };
    const Recommendation& recommendation() const { return recommendation_; }
    // What clicking the banner's button does: loads the recommended model with the plan's context
    // and GPU layers (emits modelChosen and accepts), or opens the download dialog on the
    // recommended offering.
    void takeRecommendation();
    // How the chosen model is to be loaded: its paths and, for the recommendation, the plan's
    // context, GPU layers and GPU; for a model chosen from the list context 0 (the settings'
    // context) and gpuLayers -1 (as many as fit). `threads` is not set here.
    const LoadRequest& chosenRequest() const { return chosenRequest_; }
    // The load request for a plan of a model on disk.
    static LoadRequest requestFor(const gd::FitPlan& plan);

    // The download dialog's offering for a recommended plan: official safetensors for bf16, a GGUF
    // conversion in that type otherwise (Q4_K -> Q4_K_M); empty when the catalog has none.
    static QString offeringFor(const gd::FitPlan& plan);

signals:
    void scanFinished();
    void plansReady();
    // chosenRequest(): the paths, and the plan's context (0 = the settings') and placement.
    void modelChosen(const gd::ui::LoadRequest& choice);

private:
    void choose();
    void addFolder();
    void openFile();
    void openDownloads(const QString& offeringId = QString());
    void updateSelection();
    void applyFilter();
    void applyPlans(const std::vector<gd::FitPlan>& diskPlans, std::vector<gd::FitPlan> downloadPlans);
    void updateRecommendation();

    AppSettings& settings_;
    QStringList current_, pendingSelect_;
    LoadRequest chosenRequest_;
    ModelListModel* model_ = nullptr;
    QTableView* table_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* details_ = nullptr;
    QPushButton* load_ = nullptr;
    QWidget* audioFilter_ = nullptr;
    QFrame* banner_ = nullptr;
    QLabel* bannerText_ = nullptr;
    QPushButton* bannerButton_ = nullptr;
    bool audioOnly_ = false;
    bool scanning_ = false;
    bool planning_ = false;
    quint64 scanGeneration_ = 0;
    std::optional<gd::MachineInfo> machine_;
    std::vector<gd::FitPlan> diskPlans_;      // every plan of the models on disk, best first
    std::vector<gd::FitPlan> downloadPlans_;  // the published variants' plans, best first
    Recommendation recommendation_;
};

// What the picker and the download dialog say about fitting this machine, for a model of `bytes`.
QString fitTextForBytes(quint64 bytes);

}  // namespace gd::ui
