#pragma once
// The "get a model" dialog for a user who has none: pick a Gemma 4 offering, a folder, and
// download it with pause/resume/cancel. Nothing touches the network until the user selects an
// offering, presses "Check sizes" or presses "Download".

#include "download/download_manager.h"

#include <QDialog>

#include <functional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace gd::ui {

class DownloadDialog : public QDialog {
    Q_OBJECT
public:
    // fitText: the app's verdict on whether a download of that many bytes fits this machine
    // (e.g. "fits in RAM", "too big for 16 GB"); shown once an offering's size is known.
    // destinationRoot: the folder models go into (each in its own "<org>--<name>" subfolder).
    DownloadDialog(std::function<QString(quint64 bytes)> fitText, const QString& destinationRoot,
                   QWidget* parent = nullptr);
    ~DownloadDialog() override;

    DownloadManager* manager() const { return manager_; }
    QString destination() const;
    // Selects an offering (what the model picker recommends for this machine), as if the user had
    // clicked it: its size is then asked for. False when the catalog has no such id.
    bool selectOffering(const QString& offeringId);

signals:
    // The downloaded model, ready to open: a folder (safetensors) or a .gguf file.
    void modelDownloaded(const QString& path);

protected:
    void reject() override;

private:
    enum Column { ColName, ColVariant, ColFormat, ColSize, ColModalities, ColFits, ColumnCount };

    void buildUi();
    void fillTable();
    int rowOf(const QString& offeringId) const;
    std::optional<HubOffering> selectedOffering() const;
    void onSelectionChanged();
    void checkAllSizes();
    void onSizeListed(const QString& offeringId, quint64 bytes);
    void onSizeFailed(const QString& offeringId, const QString& message);
    void browse();
    void startDownload();
    void onStateChanged(DownloadManager::State state);
    void onProgress(quint64 done, quint64 total, double bytesPerSecond);
    void onFailed(const QString& message);
    void onFinished(const QString& path);
    void updateButtons();
    void setError(const QString& message);
    void applyToken();

    std::function<QString(quint64)> fitText_;
    DownloadManager* manager_;
    QTableWidget* table_ = nullptr;
    QPushButton* checkSizes_ = nullptr;
    QLineEdit* destination_ = nullptr;
    QPushButton* browse_ = nullptr;
    QLineEdit* token_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* progressLabel_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* error_ = nullptr;
    QPushButton* download_ = nullptr;
    QPushButton* pause_ = nullptr;
    QPushButton* resume_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QPushButton* close_ = nullptr;
    QString currentFile_;
    QHash<QString, bool> sizeRequested_;  // offering id → asked this session
};

}  // namespace gd::ui
