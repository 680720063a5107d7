#include "download/download_dialog.h"

#include "download/hub_catalog.h"
#include "download/hub_client.h"

#include <QDir>
#include <QFileDialog>
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
  return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation)).filePath(QStringLiteral("models"));
}

}  // namespace

DownloadDialog::DownloadDialog(std::function<QString(quint64)> fitText, const QString& destinationRoot,
                               QWidget* parent)
    : QDialog(parent), m_fitText(std::move(fitText)), m_manager(new DownloadManager(this)) {
  setObjectName(QStringLiteral("downloadDialog"));
  setWindowTitle(tr("Download a Gemma 4 model"));
  setAccessibleName(windowTitle());
  buildUi();
  m_destination->setText(QDir::toNativeSeparators(destinationRoot.isEmpty() ? defaultRoot() : destinationRoot));
  fillTable();

  connect(m_manager, &DownloadManager::sizeListed, this, &DownloadDialog::onSizeListed);
  connect(m_manager, &DownloadManager::sizeFailed, this, &DownloadDialog::onSizeFailed);
  connect(m_manager, &DownloadManager::stateChanged, this, &DownloadDialog::onStateChanged);
  connect(m_manager, &DownloadManager::progress, this, &DownloadDialog::onProgress);
  connect(m_manager, &DownloadManager::failed, this, &DownloadDialog::onFailed);
  connect(m_manager, &DownloadManager::finished, this, &DownloadDialog::onFinished);
  connect(m_manager, &DownloadManager::fileStarted, this, [this](const QString& path, quint64) {
    m_status->setText(tr("Downloading %1…").arg(QFileInfo(path).fileName()));
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

  m_table = named(new QTableWidget(0, ColumnCount), "offeringsTable", tr("Models to download"));
  m_table->setHorizontalHeaderLabels(
      {tr("Model"), tr("Variant"), tr("Format"), tr("Size"), tr("Understands"), tr("Fits this machine?")});
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::SingleSelection);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->verticalHeader()->setVisible(false);
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->horizontalHeader()->setStretchLastSection(true);
  connect(m_table, &QTableWidget::itemSelectionChanged, this, &DownloadDialog::onSelectionChanged);

  m_checkSizes = named(new QPushButton(tr("Check sizes")), "checkSizesButton", tr("Check download sizes"));
  m_checkSizes->setToolTip(tr("Asks huggingface.co for the size of every model in the list."));
  connect(m_checkSizes, &QPushButton::clicked, this, &DownloadDialog::checkAllSizes);

  auto* destLabel = named(new QLabel(tr("Save to:")), "destinationLabel", tr("Save to"));
  m_destination = named(new QLineEdit, "destinationEdit", tr("Folder to save models in"));
  destLabel->setBuddy(m_destination);
  m_browse = named(new QPushButton(tr("Browse…")), "browseButton", tr("Choose the folder"));
  connect(m_browse, &QPushButton::clicked, this, &DownloadDialog::browse);

  auto* tokenLabel = named(new QLabel(tr("Access token:")), "tokenLabel", tr("Access token"));
  m_token = named(new QLineEdit, "tokenEdit", tr("Hugging Face access token"));
  m_token->setEchoMode(QLineEdit::Password);
  m_token->setPlaceholderText(tr("Only for models whose license you accepted on huggingface.co"));
  tokenLabel->setBuddy(m_token);

  m_progress = named(new QProgressBar, "progressBar", tr("Download progress"));
  m_progress->setRange(0, 1000);
  m_progress->setValue(0);
  m_progressLabel = named(new QLabel, "progressLabel", tr("Downloaded, speed and time left"));
  m_status = named(new QLabel, "statusLabel", tr("Download status"));
  m_status->setWordWrap(true);
  m_error = named(new QLabel, "errorLabel", tr("Download problem"));
  m_error->setWordWrap(true);
  m_error->setStyleSheet(QStringLiteral("color: #b00020;"));
  m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);

  m_download = named(new QPushButton(tr("Download")), "downloadButton", tr("Download the selected model"));
  m_download->setDefault(true);
  m_pause = named(new QPushButton(tr("Pause")), "pauseButton", tr("Pause the download"));
  m_resume = named(new QPushButton(tr("Resume")), "resumeButton", tr("Resume the download"));
  m_cancel = named(new QPushButton(tr("Cancel download")), "cancelButton",
                   tr("Cancel the download and delete its partial files"));
  m_close = named(new QPushButton(tr("Close")), "closeButton", tr("Close this window"));
  connect(m_download, &QPushButton::clicked, this, &DownloadDialog::startDownload);
  connect(m_pause, &QPushButton::clicked, m_manager, &DownloadManager::pause);
  connect(m_resume, &QPushButton::clicked, m_manager, &DownloadManager::resume);
  connect(m_cancel, &QPushButton::clicked, m_manager, &DownloadManager::cancel);
  connect(m_close, &QPushButton::clicked, this, &DownloadDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(m_table, 1);
  auto* sizesRow = new QHBoxLayout;
  sizesRow->addStretch(1);
  sizesRow->addWidget(m_checkSizes);
  layout->addLayout(sizesRow);
  auto* destRow = new QHBoxLayout;
  destRow->addWidget(destLabel);
  destRow->addWidget(m_destination, 1);
  destRow->addWidget(m_browse);
  layout->addLayout(destRow);
  auto* tokenRow = new QHBoxLayout;
  tokenRow->addWidget(tokenLabel);
  tokenRow->addWidget(m_token, 1);
  layout->addLayout(tokenRow);
  layout->addWidget(m_progress);
  layout->addWidget(m_progressLabel);
  layout->addWidget(m_status);
  layout->addWidget(m_error);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(m_download);
  buttons->addWidget(m_pause);
  buttons->addWidget(m_resume);
  buttons->addWidget(m_cancel);
  buttons->addStretch(1);
  buttons->addWidget(m_close);
  layout->addLayout(buttons);
  resize(820, 560);
}

void DownloadDialog::fillTable() {
  const QList<HubOffering> offerings = hubCatalog();
  m_table->setRowCount(static_cast<int>(offerings.size()));
  for (int row = 0; row < offerings.size(); ++row) {
    const HubOffering& o = offerings[row];
    auto* name = new QTableWidgetItem(o.repo);
    name->setData(kOfferingIdRole, o.id);
    name->setToolTip(o.description);
    m_table->setItem(row, ColName, name);
    m_table->setItem(row, ColVariant, new QTableWidgetItem(o.variant));
    m_table->setItem(row, ColFormat, new QTableWidgetItem(o.formatLabel()));
    m_table->setItem(row, ColSize, new QTableWidgetItem(tr("not checked")));
    m_table->setItem(row, ColModalities, new QTableWidgetItem(o.modalities()));
    m_table->setItem(row, ColFits, new QTableWidgetItem(QString()));
  }
}

int DownloadDialog::rowOf(const QString& offeringId) const {
  for (int row = 0; row < m_table->rowCount(); ++row)
    if (m_table->item(row, ColName)->data(kOfferingIdRole).toString() == offeringId) return row;
  return -1;
}

std::optional<HubOffering> DownloadDialog::selectedOffering() const {
  const QList<QTableWidgetItem*> items = m_table->selectedItems();
  if (items.isEmpty()) return std::nullopt;
  return findOffering(m_table->item(items.first()->row(), ColName)->data(kOfferingIdRole).toString());
}

void DownloadDialog::onSelectionChanged() {
  updateButtons();
  const auto offering = selectedOffering();
  if (!offering || m_sizeRequested.value(offering->id)) return;
  // Selecting is the user asking about this model: its size is one small listing request away.
  m_sizeRequested.insert(offering->id, true);
  m_table->item(rowOf(offering->id), ColSize)->setText(tr("checking…"));
  m_manager->setToken(m_token->text());
  m_manager->querySize(*offering);
}

void DownloadDialog::checkAllSizes() {
  m_manager->setToken(m_token->text());
  for (const HubOffering& o : hubCatalog()) {
    if (m_sizeRequested.value(o.id)) continue;
    m_sizeRequested.insert(o.id, true);
    m_table->item(rowOf(o.id), ColSize)->setText(tr("checking…"));
    m_manager->querySize(o);
  }
}

void DownloadDialog::onSizeListed(const QString& offeringId, quint64 bytes) {
  const int row = rowOf(offeringId);
  if (row < 0) return;
  m_table->item(row, ColSize)->setText(DownloadMessages::bytes(bytes));
  m_table->item(row, ColSize)->setData(Qt::UserRole, QVariant::fromValue(bytes));
  m_table->item(row, ColFits)->setText(m_fitText ? m_fitText(bytes) : QString());
}

void DownloadDialog::onSizeFailed(const QString& offeringId, const QString& message) {
  const int row = rowOf(offeringId);
  if (row < 0) return;
  m_table->item(row, ColSize)->setText(tr("unknown"));
  m_table->item(row, ColSize)->setToolTip(message);
  // Asked again on the next selection or "Check sizes" (the connection may be back by then).
  m_sizeRequested.remove(offeringId);
  if (const auto sel = selectedOffering(); sel && sel->id == offeringId) setError(message);
}

void DownloadDialog::browse() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Save models in"), destination());
  if (!dir.isEmpty()) m_destination->setText(QDir::toNativeSeparators(dir));
}

QString DownloadDialog::destination() const { return QDir::fromNativeSeparators(m_destination->text().trimmed()); }

void DownloadDialog::startDownload() {
  const auto offering = selectedOffering();
  if (!offering) return;
  if (destination().isEmpty()) {
    setError(tr("Choose a folder to save the model in."));
    return;
  }
  setError(QString());
  m_manager->setToken(m_token->text());
  m_manager->start(*offering, destination());
}

void DownloadDialog::onStateChanged(DownloadManager::State state) {
  using S = DownloadManager::State;
  switch (state) {
    case S::Listing: m_status->setText(tr("Asking huggingface.co for the file list…")); break;
    case S::Verifying: m_status->setText(tr("Checking the files already on disk…")); break;
    case S::Paused: m_status->setText(tr("Paused. Resume continues where it stopped.")); break;
    case S::Cancelled:
      m_status->setText(tr("Cancelled; the partial files were deleted."));
      m_progress->setValue(0);
      m_progressLabel->clear();
      break;
    case S::Failed: m_status->setText(tr("The download stopped.")); break;
    case S::Downloading:
    case S::Idle:
    case S::Finished: break;
  }
  if (state == S::Listing || state == S::Downloading) setError(QString());
  updateButtons();
}

void DownloadDialog::onProgress(quint64 done, quint64 total, double bytesPerSecond) {
  m_progress->setValue(total > 0 ? static_cast<int>(double(done) * 1000.0 / double(total)) : 0);
  QString text = tr("%1 of %2").arg(DownloadMessages::bytes(done), DownloadMessages::bytes(total));
  if (bytesPerSecond > 1 && done < total) {
    const auto secondsLeft = static_cast<qint64>(double(total - done) / bytesPerSecond);
    text += QStringLiteral(" · ") + DownloadMessages::speed(bytesPerSecond) + QStringLiteral(" · ") +
            tr("%1 left").arg(DownloadMessages::duration(secondsLeft));
  }
  m_progressLabel->setText(text);
}

void DownloadDialog::onFailed(const QString& message) { setError(message); }

void DownloadDialog::onFinished(const QString& path) {
  m_progress->setValue(m_progress->maximum());
  m_status->setText(tr("Downloaded to %1").arg(QDir::toNativeSeparators(path)));
  emit modelDownloaded(path);
}

void DownloadDialog::updateButtons() {
  using S = DownloadManager::State;
  const S s = m_manager->state();
  const bool active = m_manager->busy();
  m_download->setEnabled(!active && selectedOffering().has_value());
  m_pause->setEnabled(s == S::Downloading || s == S::Verifying);
  m_resume->setEnabled(s == S::Paused);
  m_cancel->setEnabled(active || s == S::Failed);
  m_table->setEnabled(!active);
  m_destination->setEnabled(!active);
  m_browse->setEnabled(!active);
  m_token->setEnabled(!active);
}

void DownloadDialog::setError(const QString& message) { m_error->setText(message); }

void DownloadDialog::reject() {
  // Closing keeps what was downloaded: the .part files stay and the next Download continues them.
  if (m_manager->state() == DownloadManager::State::Downloading ||
      m_manager->state() == DownloadManager::State::Verifying)
    m_manager->pause();
  QDialog::reject();
}

}  // namespace gd::ui
