#include "download/download_dialog.h"

#include "download/hub_catalog.h"
#include "download/hub_client.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QVBoxLayout>

namespace gd::ui {
namespace {

constexpr int kOfferingIdRole = Qt::UserRole + 1;

template <typename W>
W* named(W* widget, const char* objectName, const QString& accessibleName) {
    widget->setObjectName(QLatin1String(objectName));
    widget->setAccessibleName(accessibleName);
    return widget;
}

QString defaultRoot() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
        .filePath(QStringLiteral("models"));
}

}  // namespace

DownloadDialog::DownloadDialog(std::function<QString(quint64)> fitText, const QString& destinationRoot,
                               QWidget* parent)
    : QDialog(parent), fitText_(std::move(fitText)), manager_(new DownloadManager(this)) {
    setObjectName(QStringLiteral("downloadDialog"));
    setWindowTitle(tr("Download a Gemma 4 model"));
    setAccessibleName(windowTitle());
    buildUi();
    destination_->setText(
        QDir::toNativeSeparators(destinationRoot.isEmpty() ? defaultRoot() : destinationRoot));
    fillTable();

    connect(manager_, &DownloadManager::sizeListed, this, &DownloadDialog::onSizeListed);
    connect(manager_, &DownloadManager::sizeFailed, this, &DownloadDialog::onSizeFailed);
    connect(manager_, &DownloadManager::stateChanged, this, &DownloadDialog::onStateChanged);
    connect(manager_, &DownloadManager::progress, this, &DownloadDialog::onProgress);
    connect(manager_, &DownloadManager::failed, this, &DownloadDialog::onFailed);
    connect(manager_, &DownloadManager::finished, this, &DownloadDialog::onFinished);
    connect(manager_, &DownloadManager::fileStarted, this, [this](const QString& path, quint64) {
        currentFile_ = QFileInfo(path).fileName();
        status_->setText(tr("Downloading %1…").arg(currentFile_));
    });
    updateButtons();
}

DownloadDialog::~DownloadDialog() = default;

void DownloadDialog::buildUi() {
    auto* intro = named(new QLabel(tr("Pick a Gemma 4 model to download from huggingface.co. Nothing is "
                                      "downloaded until you press Download; the smaller E2B and E4B "
                                      "models suit most computers.")),
                        "introLabel", tr("About downloading"));
    intro->setWordWrap(true);

    table_ = named(new QTableWidget(0, ColumnCount), "offeringsTable", tr("Models to download"));
    table_->setHorizontalHeaderLabels(
        {tr("Model"), tr("Variant"), tr("Format"), tr("Size"), tr("Understands"), tr("Fits this machine?")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(table_, &QTableWidget::itemSelectionChanged, this, &DownloadDialog::onSelectionChanged);

    checkSizes_ = named(new QPushButton(tr("Check sizes")), "checkSizesButton", tr("Check download sizes"));
    checkSizes_->setToolTip(tr("Asks huggingface.co for the size of every model in the list."));
    connect(checkSizes_, &QPushButton::clicked, this, &DownloadDialog::checkAllSizes);

    auto* destLabel = named(new QLabel(tr("Save to:")), "destinationLabel", tr("Save to"));
    destination_ = named(new QLineEdit, "destinationEdit", tr("Folder to save models in"));
    destLabel->setBuddy(destination_);
    browse_ = named(new QPushButton(tr("Browse…")), "browseButton", tr("Choose the folder"));
    connect(browse_, &QPushButton::clicked, this, &DownloadDialog::browse);

    auto* tokenLabel = named(new QLabel(tr("Access token:")), "tokenLabel", tr("Access token"));
    token_ = named(new QLineEdit, "tokenEdit", tr("Hugging Face access token"));
    token_->setEchoMode(QLineEdit::Password);
    token_->setPlaceholderText(tr("Only for models whose license you accepted on huggingface.co"));
    tokenLabel->setBuddy(token_);

    progress_ = named(new QProgressBar, "progressBar", tr("Download progress"));
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progressLabel_ = named(new QLabel, "progressLabel", tr("Downloaded, speed and time left"));
    status_ = named(new QLabel, "statusLabel", tr("Download status"));
    status_->setWordWrap(true);
    error_ = named(new QLabel, "errorLabel", tr("Download problem"));
    error_->setWordWrap(true);
    error_->setStyleSheet(QStringLiteral("color: #b00020;"));
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    download_ = named(new QPushButton(tr("Download")), "downloadButton", tr("Download the selected model"));
    download_->setDefault(true);
    pause_ = named(new QPushButton(tr("Pause")), "pauseButton", tr("Pause the download"));
    resume_ = named(new QPushButton(tr("Resume")), "resumeButton", tr("Resume the download"));
    cancel_ = named(new QPushButton(tr("Cancel download")), "cancelButton",
                    tr("Cancel the download and delete its partial files"));
    close_ = named(new QPushButton(tr("Close")), "closeButton", tr("Close this window"));
    connect(download_, &QPushButton::clicked, this, &DownloadDialog::startDownload);
    connect(pause_, &QPushButton::clicked, manager_, &DownloadManager::pause);
    connect(resume_, &QPushButton::clicked, manager_, &DownloadManager::resume);
    connect(cancel_, &QPushButton::clicked, manager_, &DownloadManager::cancel);
    connect(close_, &QPushButton::clicked, this, &DownloadDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(table_, 1);
    auto* sizesRow = new QHBoxLayout;
    sizesRow->addStretch(1);
    sizesRow->addWidget(checkSizes_);
    layout->addLayout(sizesRow);
    auto* destRow = new QHBoxLayout;
    destRow->addWidget(destLabel);
    destRow->addWidget(destination_, 1);
    destRow->addWidget(browse_);
    layout->addLayout(destRow);
    auto* tokenRow = new QHBoxLayout;
    tokenRow->addWidget(tokenLabel);
    tokenRow->addWidget(token_, 1);
    layout->addLayout(tokenRow);
    layout->addWidget(progress_);
    layout->addWidget(progressLabel_);
    layout->addWidget(status_);
    layout->addWidget(error_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(download_);
    buttons->addWidget(pause_);
    buttons->addWidget(resume_);
    buttons->addWidget(cancel_);
    buttons->addStretch(1);
    buttons->addWidget(close_);
    layout->addLayout(buttons);
    resize(820, 560);
}

void DownloadDialog::fillTable() {
    const QList<HubOffering> offerings = hubCatalog();
    table_->setRowCount(static_cast<int>(offerings.size()));
    for (int row = 0; row < offerings.size(); ++row) {
        const HubOffering& o = offerings[row];
        auto* name = new QTableWidgetItem(o.repo);
        name->setData(kOfferingIdRole, o.id);
        name->setToolTip(o.description);
        table_->setItem(row, ColName, name);
        table_->setItem(row, ColVariant, new QTableWidgetItem(o.variant));
        table_->setItem(row, ColFormat, new QTableWidgetItem(o.formatLabel()));
        table_->setItem(row, ColSize, new QTableWidgetItem(tr("not checked")));
        table_->setItem(row, ColModalities, new QTableWidgetItem(o.modalities()));
        table_->setItem(row, ColFits, new QTableWidgetItem(QString()));
    }
}

int DownloadDialog::rowOf(const QString& offeringId) const {
    for (int row = 0; row < table_->rowCount(); ++row)
        if (table_->item(row, ColName)->data(kOfferingIdRole).toString() == offeringId) return row;
    return -1;
}

bool DownloadDialog::selectOffering(const QString& offeringId) {
    const int row = rowOf(offeringId);
    if (row < 0) return false;
    table_->selectRow(row);
    table_->scrollToItem(table_->item(row, ColName));
    return true;
}

std::optional<HubOffering> DownloadDialog::selectedOffering() const {
    const QList<QTableWidgetItem*> items = table_->selectedItems();
    if (items.isEmpty()) return std::nullopt;
    return findOffering(table_->item(items.first()->row(), ColName)->data(kOfferingIdRole).toString());
}

void DownloadDialog::onSelectionChanged() {
    updateButtons();
    const auto offering = selectedOffering();
    if (!offering || sizeRequested_.value(offering->id)) return;
    // Selecting is the user asking about this model: its size is one small listing request away.
    sizeRequested_.insert(offering->id, true);
    table_->item(rowOf(offering->id), ColSize)->setText(tr("checking…"));
    applyToken();
    manager_->querySize(*offering);
}

void DownloadDialog::applyToken() {
    // An empty field leaves the token from HF_TOKEN (if any) in place.
    if (!token_->text().trimmed().isEmpty()) manager_->setToken(token_->text());
}

void DownloadDialog::checkAllSizes() {
    applyToken();
    for (const HubOffering& o : hubCatalog()) {
        if (sizeRequested_.value(o.id)) continue;
        sizeRequested_.insert(o.id, true);
        table_->item(rowOf(o.id), ColSize)->setText(tr("checking…"));
        manager_->querySize(o);
    }
}

void DownloadDialog::onSizeListed(const QString& offeringId, quint64 bytes) {
    const int row = rowOf(offeringId);
    if (row < 0) return;
    table_->item(row, ColSize)->setText(DownloadMessages::bytes(bytes));
    table_->item(row, ColSize)->setData(Qt::UserRole, QVariant::fromValue(bytes));
    table_->item(row, ColFits)->setText(fitText_ ? fitText_(bytes) : QString());
}

void DownloadDialog::onSizeFailed(const QString& offeringId, const QString& message) {
    const int row = rowOf(offeringId);
    if (row < 0) return;
    table_->item(row, ColSize)->setText(tr("unknown"));
    table_->item(row, ColSize)->setToolTip(message);
    // Asked again on the next selection or "Check sizes" (the connection may be back by then).
    sizeRequested_.remove(offeringId);
    if (const auto sel = selectedOffering(); sel && sel->id == offeringId) setError(message);
}

void DownloadDialog::browse() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Save models in"), destination());
    if (!dir.isEmpty()) destination_->setText(QDir::toNativeSeparators(dir));
}

QString DownloadDialog::destination() const {
    return QDir::fromNativeSeparators(destination_->text().trimmed());
}

void DownloadDialog::startDownload() {
    const auto offering = selectedOffering();
    if (!offering) return;
    if (destination().isEmpty()) {
        setError(tr("Choose a folder to save the model in."));
        return;
    }
    setError(QString());
    applyToken();
    manager_->start(*offering, destination());
}

void DownloadDialog::onStateChanged(DownloadManager::State state) {
    using S = DownloadManager::State;
    switch (state) {
        case S::Listing: status_->setText(tr("Asking huggingface.co for the file list…")); break;
        case S::Verifying: status_->setText(tr("Checking %1…").arg(currentFile_)); break;
        case S::Downloading: status_->setText(tr("Downloading %1…").arg(currentFile_)); break;
        case S::Paused: status_->setText(tr("Paused. Resume continues where it stopped.")); break;
        case S::Cancelled:
            status_->setText(tr("Cancelled; the partial files were deleted."));
            progress_->setValue(0);
            progressLabel_->clear();
            break;
        case S::Failed: status_->setText(tr("The download stopped.")); break;
        case S::Idle:
        case S::Finished: break;
    }
    if (state == S::Listing || state == S::Downloading) setError(QString());
    updateButtons();
}

void DownloadDialog::onProgress(quint64 done, quint64 total, double bytesPerSecond) {
    progress_->setValue(total > 0 ? static_cast<int>(double(done) * 1000.0 / double(total)) : 0);
    QString text = tr("%1 of %2").arg(DownloadMessages::bytes(done), DownloadMessages::bytes(total));
    if (bytesPerSecond > 1 && done < total) {
        const auto secondsLeft = static_cast<qint64>(double(total - done) / bytesPerSecond);
        text += QStringLiteral(" · ") + DownloadMessages::speed(bytesPerSecond) + QStringLiteral(" · ") +
                tr("%1 left").arg(DownloadMessages::duration(secondsLeft));
    }
    progressLabel_->setText(text);
}

void DownloadDialog::onFailed(const QString& message) {
    setError(message);
}

void DownloadDialog::onFinished(const QString& path) {
    progress_->setValue(progress_->maximum());
    status_->setText(tr("Downloaded to %1").arg(QDir::toNativeSeparators(path)));
    emit modelDownloaded(path);
}

void DownloadDialog::updateButtons() {
    using S = DownloadManager::State;
    const S s = manager_->state();
    const bool active = manager_->busy();
    download_->setEnabled(!active && selectedOffering().has_value());
    pause_->setEnabled(s == S::Downloading || s == S::Verifying);
    resume_->setEnabled(s == S::Paused);
    cancel_->setEnabled(active || s == S::Failed);
    table_->setEnabled(!active);
    destination_->setEnabled(!active);
    browse_->setEnabled(!active);
    token_->setEnabled(!active);
}

void DownloadDialog::setError(const QString& message) {
    error_->setText(message);
}

void DownloadDialog::reject() {
    // Closing keeps what was downloaded: the .part files stay and the next Download continues them.
    // Nothing may go on in the background behind a closed window.
    if (manager_->state() == DownloadManager::State::Downloading ||
        manager_->state() == DownloadManager::State::Verifying)
        manager_->pause();
    else if (manager_->state() == DownloadManager::State::Listing)
        manager_->cancel();
    QDialog::reject();
}

}  // namespace gd::ui
