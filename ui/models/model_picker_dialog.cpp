#include "models/model_picker_dialog.h"

#include <algorithm>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>
#include "catalog/fit_estimate.h"
#include "download/download_dialog.h"
#include "download/hub_catalog.h"
#include "model/model_files.h"
#include "models/model_list_model.h"
#include "models/plan_text.h"
#include "settings/app_settings.h"

namespace gd::ui {

QString fitTextForBytes(quint64 bytes) {
    static const gd::MachineMemory machine = gd::probe_machine_memory();
    return QString::fromStdString(gd::estimate_fit(bytes, machine).summary);
}

namespace {

gd::MachineMemory machineMemory(const gd::MachineInfo& m) {
    gd::MachineMemory mm;
    mm.ram_total = m.ram_total;
    mm.ram_available = m.ram_available;
    mm.gpus = m.cuda_gpus;
    return mm;
}

// The engine loads a model's files as they are stored: a plan that needs them quantized while
// loading is shown, but not recommended for one-click loading.
// The engine runs every plan as planned (split layers, load-time quantization: LoadRequest::quantize).
bool loadableAsPlanned(const gd::FitPlan& p) { return p.fits; }

bool hearsAudio(const std::string& variant) { return variant == "e2b" || variant == "e4b"; }

QString variantLabel(const std::string& variant) {
    return QString::fromStdString(variant).toUpper();  // "E4B", "26B-A4B": as the hub names them
}

}  // namespace

QString ModelPickerDialog::offeringFor(const gd::FitPlan& plan) {
    const QString variant = variantLabel(plan.variant);
    const bool wantsSafetensors = gd::precision_quality(plan.weight_type) >= 3;
    // GGUF tags carry the type's name with a size suffix: q4_k -> "Q4_K_M", q8_0 -> "Q8_0".
    const QString type = planTypeText(plan.weight_type);
    for (const HubOffering& o : hubCatalog()) {
        if (o.variant.compare(variant, Qt::CaseInsensitive) != 0) continue;
        if (wantsSafetensors ? o.format == HubFormat::Safetensors
                             : o.format == HubFormat::Gguf && (o.quant == type || o.quant.startsWith(type + QLatin1Char('_'))))
            return o.id;
    }
    return {};
}

LoadRequest ModelPickerDialog::requestFor(const gd::FitPlan& plan) {
    LoadRequest r;
    for (const std::string& path : plan.paths) r.paths << QString::fromStdString(path);
    r.context = plan.context;
    switch (plan.device) {
    case gd::PlanDevice::Gpu: r.gpuLayers = -1; break;  // every layer
    case gd::PlanDevice::Split: r.gpuLayers = plan.gpu_layers; break;
    case gd::PlanDevice::Cpu: r.gpuLayers = 0; break;
    }
    r.gpu = std::max(0, plan.gpu_index);
    if (plan.load_time_quantization) r.quantize = QString::fromLatin1(gd::dtype_name(plan.weight_type));
    return r;
}

ModelPickerDialog::ModelPickerDialog(AppSettings& settings, const QStringList& currentPaths, QWidget* parent)
    : QDialog(parent), settings_(settings), current_(currentPaths) {
    setObjectName(QStringLiteral("modelPicker"));
    setWindowTitle(tr("Choose a model"));
    resize(980, 520);
    auto* col = new QVBoxLayout(this);

    auto* top = new QHBoxLayout;
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("pickerSummary"));
    summary_->setWordWrap(true);
    top->addWidget(summary_, 1);
    auto* rescanButton = new QPushButton(tr("Rescan"), this);
    rescanButton->setObjectName(QStringLiteral("rescanButton"));
    rescanButton->setAccessibleName(tr("Search the disk for models again"));
    auto* addFolderButton = new QPushButton(tr("Add folder…"), this);
    addFolderButton->setObjectName(QStringLiteral("addFolderButton"));
    addFolderButton->setAccessibleName(tr("Add a folder that holds models"));
    auto* openFileButton = new QPushButton(tr("Open file…"), this);
    openFileButton->setObjectName(QStringLiteral("openFileButton"));
    openFileButton->setAccessibleName(tr("Open a model file"));
    auto* downloadButton = new QPushButton(tr("Download…"), this);
    downloadButton->setObjectName(QStringLiteral("downloadButton"));
    downloadButton->setAccessibleName(tr("Download a Gemma 4 model"));
    for (QPushButton* b : {rescanButton, addFolderButton, openFileButton, downloadButton}) top->addWidget(b);
    col->addLayout(top);

    audioFilter_ = new QWidget(this);
    audioFilter_->setObjectName(QStringLiteral("audioFilter"));
    auto* af = new QHBoxLayout(audioFilter_);
    af->setContentsMargins(0, 0, 0, 0);
    auto* audioNote = new QLabel(tr("Showing the models that understand speech: Gemma 4 E2B and E4B (a GGUF needs its "
                                    "mmproj file beside it). Download one if none is listed."), audioFilter_);
    audioNote->setObjectName(QStringLiteral("audioFilterNote"));
    audioNote->setWordWrap(true);
    auto* showAll = new QPushButton(tr("Show all"), audioFilter_);
    showAll->setObjectName(QStringLiteral("showAllModelsButton"));
    showAll->setAccessibleName(tr("Show all models"));
    af->addWidget(audioNote, 1);
    af->addWidget(showAll);
    audioFilter_->hide();
    col->addWidget(audioFilter_);
    connect(showAll, &QPushButton::clicked, this, [this] { setAudioOnly(false); });

    banner_ = new QFrame(this);
    banner_->setObjectName(QStringLiteral("recommendationBanner"));
    banner_->setFrameShape(QFrame::StyledPanel);
    banner_->setBackgroundRole(QPalette::AlternateBase);
    banner_->setAutoFillBackground(true);
    auto* bl = new QHBoxLayout(banner_);
    bl->setContentsMargins(8, 6, 8, 6);
    bannerText_ = new QLabel(banner_);
    bannerText_->setObjectName(QStringLiteral("recommendationText"));
    bannerText_->setWordWrap(true);
    bannerText_->setTextFormat(Qt::RichText);
    bannerButton_ = new QPushButton(banner_);
    bannerButton_->setObjectName(QStringLiteral("recommendationButton"));
    bannerButton_->hide();
    bl->addWidget(bannerText_, 1);
    bl->addWidget(bannerButton_);
    col->addWidget(banner_);
    connect(bannerButton_, &QPushButton::clicked, this, &ModelPickerDialog::takeRecommendation);

    model_ = new ModelListModel(this);
    table_ = new QTableView(this);
    table_->setObjectName(QStringLiteral("modelTable"));
    table_->setAccessibleName(tr("Models on this computer"));
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setShowGrid(false);
    table_->setAlternatingRowColors(true);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(false);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setSectionResizeMode(ModelListModel::Fit, QHeaderView::Stretch);
    table_->setWordWrap(false);
    col->addWidget(table_, 1);

    details_ = new QLabel(this);
    details_->setObjectName(QStringLiteral("pickerDetails"));
    details_->setWordWrap(true);
    details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    col->addWidget(details_);

    auto* buttons = new QDialogButtonBox(this);
    load_ = buttons->addButton(tr("Load"), QDialogButtonBox::AcceptRole);
    load_->setObjectName(QStringLiteral("loadButton"));
    load_->setAccessibleName(tr("Load the selected model"));
    auto* close = buttons->addButton(QDialogButtonBox::Cancel);
    close->setObjectName(QStringLiteral("closeButton"));
    col->addWidget(buttons);

    connect(rescanButton, &QPushButton::clicked, this, &ModelPickerDialog::rescan);
    connect(addFolderButton, &QPushButton::clicked, this, &ModelPickerDialog::addFolder);
    connect(openFileButton, &QPushButton::clicked, this, &ModelPickerDialog::openFile);
    connect(downloadButton, &QPushButton::clicked, this, [this] { openDownloads(); });
    connect(load_, &QPushButton::clicked, this, &ModelPickerDialog::choose);
    connect(close, &QPushButton::clicked, this, &ModelPickerDialog::reject);
    connect(table_, &QTableView::doubleClicked, this, &ModelPickerDialog::choose);
    connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &ModelPickerDialog::updateSelection);
    pendingSelect_ = current_;
    updateSelection();
    rescan();
}

ModelPickerDialog::~ModelPickerDialog() = default;

void ModelPickerDialog::rescan() {
    scanning_ = true;
    planning_ = true;
    summary_->setText(tr("Looking for Gemma 4 models on this computer…"));
    updateRecommendation();
    gd::DiscoveryOptions options;
    for (const QString& f : settings_.modelFolders()) options.extra_folders.push_back(f.toStdString());
    options.extra_folders.push_back(settings_.downloadFolder().toStdString());
    if (machine_) options.machine = machineMemory(*machine_);
    const quint64 generation = ++scanGeneration_;
    // Reading model headers touches the disk, probing the GPUs wakes their drivers and planning
    // tries many placements: never on the UI thread. The list is shown as soon as it is read; the
    // plans follow.
    QPointer<ModelPickerDialog> self(this);
    const std::optional<gd::MachineInfo> known = machine_;
    QThread* thread = QThread::create([self, options, generation, known] {
        std::vector<gd::DiscoveredModel> found = gd::discover_models(options);
        QMetaObject::invokeMethod(qApp, [self, generation, found]() mutable {
            if (!self || generation != self->scanGeneration_) return;
            self->model_->setModels(std::move(found));
            self->model_->setPlanning(true);
            self->scanning_ = false;
            int usable = 0;
            for (int r = 0; r < self->model_->rowCount(); ++r) usable += self->model_->at(r)->error.empty();
            self->summary_->setText(
                usable == 0 ? tr("No Gemma 4 model was found on this computer. Download one, or add the "
                                 "folder where yours are.")
                            : tr("%n Gemma 4 model(s) found on this computer.", nullptr, usable));
            if (!self->pendingSelect_.isEmpty()) self->select(self->pendingSelect_);
            self->applyFilter();
            self->updateSelection();
            emit self->scanFinished();
        }, Qt::QueuedConnection);

        const gd::MachineInfo machine = known ? *known : gd::probe_machine(/*with_vulkan=*/true);
        std::vector<gd::PlanCandidate> candidates;
        for (const gd::DiscoveredModel& m : found) {
            if (!m.usable()) continue;
            try {
                const gd::ModelFiles files = gd::ModelFiles::open(m.load_paths);
                candidates.push_back(gd::candidate_from_files(files, m.load_paths));
                candidates.back().name = m.name;
            } catch (const std::exception&) {
                // Changed or removed since it was listed: it keeps discovery's estimate.
            }
        }
        const gd::PlanRequest request;
        std::vector<gd::FitPlan> diskPlans = gd::plan_fit(candidates, machine, request);
        std::vector<gd::FitPlan> downloadPlans = gd::plan_fit(gd::recommended_candidates(), machine, request);
        QMetaObject::invokeMethod(qApp, [self, generation, machine, diskPlans = std::move(diskPlans),
                                         downloadPlans = std::move(downloadPlans)]() mutable {
            if (!self || generation != self->scanGeneration_) return;
            if (!self->machine_) self->machine_ = machine;
            self->applyPlans(diskPlans, std::move(downloadPlans));
        }, Qt::QueuedConnection);
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void ModelPickerDialog::setMachine(const gd::MachineInfo& machine) {
    machine_ = machine;
    rescan();
}

void ModelPickerDialog::applyPlans(const std::vector<gd::FitPlan>& diskPlans, std::vector<gd::FitPlan> downloadPlans) {
    // Each row shows its best plan: the planner's list is best first, so the first with its paths.
    std::vector<std::optional<gd::FitPlan>> rows(size_t(model_->rowCount()));
    for (int r = 0; r < model_->rowCount(); ++r) {
        const gd::DiscoveredModel* m = model_->at(r);
        for (const gd::FitPlan& p : diskPlans)
            if (m->usable() && p.paths == m->load_paths) {
                rows[size_t(r)] = p;
                break;
            }
    }
    model_->setPlans(std::move(rows));
    diskPlans_ = diskPlans;
    downloadPlans_ = std::move(downloadPlans);
    planning_ = false;
    updateRecommendation();
    updateSelection();
    emit plansReady();
}

void ModelPickerDialog::updateRecommendation() {
    recommendation_ = {};
    bannerButton_->hide();
    bannerText_->setToolTip(QString());
    bannerButton_->setToolTip(QString());
    if (planning_) {
        bannerText_->setText(tr("Working out which model fits this machine best…"));
        return;
    }
    // The best plan among the models on disk that loads as planned (and hears, with the audio filter).
    for (const gd::FitPlan& p : diskPlans_) {
        if (!loadableAsPlanned(p) || p.paths.empty()) continue;
        const int row = model_->rowOf(QStringList{QString::fromStdString(p.paths.front())});
        const gd::DiscoveredModel* m = model_->at(row);
        if (!m || m->load_paths != p.paths || (audioOnly_ && !m->has_audio)) continue;
        recommendation_.kind = Recommendation::Kind::OnDisk;
        recommendation_.plan = p;
        recommendation_.row = row;
        break;
    }
    // Else the best of the published variants: a download.
    if (recommendation_.kind == Recommendation::Kind::None)
        for (const gd::FitPlan& p : downloadPlans_) {
            if (!p.fits || (audioOnly_ && !hearsAudio(p.variant))) continue;
            recommendation_.kind = Recommendation::Kind::Download;
            recommendation_.plan = p;
            recommendation_.offeringId = offeringFor(p);
            break;
        }

    const gd::FitPlan& p = recommendation_.plan;
    const QString head = tr("<b>Recommended for this machine:</b>");
    switch (recommendation_.kind) {
    case Recommendation::Kind::OnDisk: {
        const gd::DiscoveredModel* m = model_->at(recommendation_.row);
        bannerText_->setText(QStringLiteral("%1 %2 — %3, %4 weights.")
                                 .arg(head, QString::fromStdString(m->name).toHtmlEscaped(),
                                      planLine(p).toHtmlEscaped(), planTypeText(p.weight_type)));
        bannerButton_->setText(tr("Load recommended"));
        bannerButton_->setAccessibleName(tr("Load the recommended model with its planned context"));
        bannerButton_->show();
        break;
    }
    case Recommendation::Kind::Download: {
        bool anyOnDisk = false;
        for (int r = 0; r < model_->rowCount(); ++r) anyOnDisk |= model_->at(r)->usable();
        const QString lead = anyOnDisk ? tr("None of the models found here fits as stored.") + QLatin1Char(' ') : QString();
        bannerText_->setText(QStringLiteral("%1%2 Gemma 4 %3 in %4 — %5.")
                                 .arg(lead, head, variantLabel(p.variant), planTypeText(p.weight_type),
                                      planLine(p).toHtmlEscaped()));
        bannerButton_->setText(tr("Download…"));
        bannerButton_->setAccessibleName(tr("Download the recommended model"));
        bannerButton_->show();
        break;
    }
    case Recommendation::Kind::None:
        bannerText_->setText(tr("No Gemma 4 model fits this machine's memory."));
        // The smallest published plan says what even that would need.
        if (!downloadPlans_.empty()) bannerText_->setToolTip(planToolTip(downloadPlans_.back()));
        return;
    }
    bannerText_->setToolTip(planToolTip(p));
    bannerButton_->setToolTip(planToolTip(p));
}

void ModelPickerDialog::takeRecommendation() {
    const Recommendation r = recommendation_;
    if (r.kind == Recommendation::Kind::OnDisk) {
        if (!select(QStringList{QString::fromStdString(r.plan.paths.front())})) return;
        chosenRequest_ = requestFor(r.plan);
        emit modelChosen(chosenRequest_);
        accept();
    } else if (r.kind == Recommendation::Kind::Download) {
        openDownloads(r.offeringId);
    }
}

bool ModelPickerDialog::select(const QStringList& loadPaths) {
    const int row = model_->rowOf(loadPaths);
    if (row < 0) return false;
    table_->selectRow(row);
    pendingSelect_.clear();
    return true;
}

void ModelPickerDialog::setAudioOnly(bool on) {
    audioOnly_ = on;
    audioFilter_->setVisible(on);
    applyFilter();
    updateRecommendation();
}

void ModelPickerDialog::applyFilter() {
    for (int r = 0; r < model_->rowCount(); ++r) {
        const gd::DiscoveredModel* m = model_->at(r);
        table_->setRowHidden(r, audioOnly_ && !(m && m->has_audio));
    }
}

void ModelPickerDialog::updateSelection() {
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    const gd::DiscoveredModel* m = rows.isEmpty() ? nullptr : model_->at(rows.front().row());
    load_->setEnabled(m && m->error.empty());
    if (!m) {
        details_->setText(tr("Select a model to see where it is."));
        details_->setToolTip(QString());
        return;
    }
    QStringList paths;
    for (const std::string& p : m->load_paths) paths << QString::fromStdString(p);
    const gd::FitPlan* plan = model_->planAt(rows.front().row());
    QString text = tr("%1 — %2, %3 weights, %4 on disk. Context up to %5 tokens.")
                       .arg(QString::fromStdString(m->name), QString::fromStdString(m->variant),
                            QString::fromStdString(m->quantization), ModelListModel::formatBytes(m->disk_bytes))
                       .arg(m->max_context);
    if (plan)
        text += QLatin1Char('\n') + tr("This machine: %1. %2").arg(planLine(*plan), QString::fromStdString(plan->why)) +
                QLatin1Char('\n') + planMemoryLine(*plan);
    else
        text += QLatin1Char('\n') + tr("About %1 in memory.").arg(ModelListModel::formatBytes(m->memory_bytes));
    text += QLatin1Char('\n') + paths.join(QStringLiteral("\n"));
    if (!m->error.empty()) text = QString::fromStdString(m->error) + QStringLiteral("\n") + paths.join(QStringLiteral("\n"));
    details_->setText(text);
    details_->setToolTip(plan && m->error.empty() ? planToolTip(*plan) : QString());
}

void ModelPickerDialog::choose() {
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    const gd::DiscoveredModel* m = rows.isEmpty() ? nullptr : model_->at(rows.front().row());
    if (!m || !m->error.empty()) return;
    chosenRequest_ = LoadRequest{};
    chosenRequest_.context = 0;  // the settings' context length; the engine places the layers
    for (const std::string& p : m->load_paths) chosenRequest_.paths << QString::fromStdString(p);
    emit modelChosen(chosenRequest_);
    accept();
}

void ModelPickerDialog::addFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Add a folder with models"));
    if (dir.isEmpty()) return;
    QStringList folders = settings_.modelFolders();
    if (!folders.contains(dir)) folders << dir;
    settings_.setModelFolders(folders);
    rescan();
}

void ModelPickerDialog::openFile() {
    const QString file = QFileDialog::getOpenFileName(this, tr("Open a Gemma 4 model"), QString(),
                                                      tr("GGUF models (*.gguf);;Hugging Face config (config.json);;All files (*)"));
    if (file.isEmpty()) return;
    const QFileInfo fi(file);
    QStringList folders = settings_.modelFolders();
    const QString folder = fi.absolutePath();
    if (!folders.contains(folder)) folders << folder;
    settings_.setModelFolders(folders);
    pendingSelect_ = QStringList{fi.fileName() == QLatin1String("config.json") ? folder : fi.absoluteFilePath()};
    rescan();
}

void ModelPickerDialog::openDownloads(const QString& offeringId) {
    // The machine this dialog probed, when it has: no second probe on the UI thread.
    std::function<QString(quint64)> fitText = &fitTextForBytes;
    if (machine_)
        fitText = [memory = machineMemory(*machine_)](quint64 bytes) {
            return QString::fromStdString(gd::estimate_fit(bytes, memory).summary);
        };
    auto* dialog = new DownloadDialog(std::move(fitText), settings_.downloadFolder(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!offeringId.isEmpty()) dialog->selectOffering(offeringId);
    connect(dialog, &DownloadDialog::modelDownloaded, this, [this](const QString& path) {
        pendingSelect_ = QStringList{path};
        rescan();
    });
    dialog->open();
}

}  // namespace gd::ui
