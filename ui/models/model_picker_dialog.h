#pragma once
// The model picker: the Gemma 4 models already on this computer (Hugging Face cache, Ollama,
// LM Studio and the user's folders, scanned on a background thread), what each is and whether it
// fits this machine; a file can be opened directly, a folder added, or a model downloaded.
#include <QDialog>
#include <QStringList>
#include <functional>
#include "catalog/model_discovery.h"

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
    QStringList chosenPaths() const { return chosen_; }
    // Selects the row for these paths (tests and "open file").
    bool select(const QStringList& loadPaths);
    // Shows only the models with an audio tower (E2B, E4B), with a note and a "Show all" button:
    // what the composer's microphone offers when the loaded model can't hear.
    void setAudioOnly(bool on);
    bool audioOnly() const { return audioOnly_; }

signals:
    void scanFinished();
    void modelChosen(const QStringList& loadPaths);

private:
    void choose();
    void addFolder();
    void openFile();
    void openDownloads();
    void updateSelection();
    void applyFilter();

    AppSettings& settings_;
    QStringList current_, chosen_, pendingSelect_;
    ModelListModel* model_ = nullptr;
    QTableView* table_ = nullptr;
    QLabel* summary_ = nullptr;
    QLabel* details_ = nullptr;
    QPushButton* load_ = nullptr;
    QWidget* audioFilter_ = nullptr;
    bool audioOnly_ = false;
    bool scanning_ = false;
    quint64 scanGeneration_ = 0;
};

// What the picker and the download dialog say about fitting this machine, for a model of `bytes`.
QString fitTextForBytes(quint64 bytes);

}  // namespace gd::ui
