#include "models/model_picker_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
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
#include "models/model_list_model.h"
#include "settings/app_settings.h"

namespace gd::ui {

QString fitTextForBytes(quint64 bytes) {
    static const gd::MachineMemory machine = gd::probe_machine_memory();
    return QString::fromStdString(gd::estimate_fit(bytes, machine).summary);
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
    connect(downloadButton, &QPushButton::clicked, this, &ModelPickerDialog::openDownloads);
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
    summary_->setText(tr("Looking for Gemma 4 models on this computer…"));
    gd::DiscoveryOptions options;
    for (const QString& f : settings_.modelFolders()) options.extra_folders.push_back(f.toStdString());
    options.extra_folders.push_back(settings_.downloadFolder().toStdString());
    const quint64 generation = ++scanGeneration_;
    // Reading model headers touches the disk: never on the UI thread.
    QPointer<ModelPickerDialog> self(this);
    QThread* thread = QThread::create([self, options, generation] {
        std::vector<gd::DiscoveredModel> found = gd::discover_models(options);
        QMetaObject::invokeMethod(qApp, [self, generation, found = std::move(found)]() mutable {
            if (!self || generation != self->scanGeneration_) return;
            self->model_->setModels(std::move(found));
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
    });
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
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
        return;
    }
    QStringList paths;
    for (const std::string& p : m->load_paths) paths << QString::fromStdString(p);
    QString text = tr("%1 — %2, %3 weights, %4 on disk, about %5 in memory. Context up to %6 tokens.\n%7")
                       .arg(QString::fromStdString(m->name), QString::fromStdString(m->variant),
                            QString::fromStdString(m->quantization), ModelListModel::formatBytes(m->disk_bytes),
                            ModelListModel::formatBytes(m->memory_bytes))
                       .arg(m->max_context)
                       .arg(paths.join(QStringLiteral("\n")));
    if (!m->error.empty()) text = QString::fromStdString(m->error) + QStringLiteral("\n") + paths.join(QStringLiteral("\n"));
    details_->setText(text);
}

void ModelPickerDialog::choose() {
    const QModelIndexList rows = table_->selectionModel()->selectedRows();
    const gd::DiscoveredModel* m = rows.isEmpty() ? nullptr : model_->at(rows.front().row());
    if (!m || !m->error.empty()) return;
    chosen_.clear();
    for (const std::string& p : m->load_paths) chosen_ << QString::fromStdString(p);
    emit modelChosen(chosen_);
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

void ModelPickerDialog::openDownloads() {
    auto* dialog = new DownloadDialog(&fitTextForBytes, settings_.downloadFolder(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &DownloadDialog::modelDownloaded, this, [this](const QString& path) {
        pendingSelect_ = QStringList{path};
        rescan();
    });
    dialog->open();
}

}  // namespace gd::ui
