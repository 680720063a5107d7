// The model picker on the fit planner: every listed model shows its plan for the machine (fits on the
// GPU / with offload / CPU only / does not fit, the context it gets, the reasons and memory table as a
// tooltip), and the banner recommends the best plan — a model on disk that one click loads with the
// plan's context, or a published variant to download when nothing on disk fits. The machine is a
// synthetic one given to the dialog (gd::synthetic_machine), so the verdicts do not depend on the
// computer the tests run on; the models are tiny real ones and loading uses the real engine.
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>
#include "app_support.h"
#include "catalog/fit_plan.h"
#include "catalog/machine_probe.h"
#include "engine/engine_controller.h"
#include "models/model_list_model.h"
#include "models/model_picker_dialog.h"
#include "models/plan_text.h"
#include "settings/app_settings.h"
#include "window/main_window.h"

using namespace gd::ui;
using gd::uitest::App;

namespace {
constexpr int kLong = 120000;
constexpr uint64_t kGiB = 1ull << 30;

template <typename T>
T* child(QWidget* root, const char* name) {
    T* w = root->findChild<T*>(QString::fromLatin1(name));
    if (!w) qFatal("no widget named %s", name);
    return w;
}

gd::MachineInfo machine(uint64_t ram, uint64_t gpu) { return gd::synthetic_machine(ram, gpu, gd::MachineInfo{}); }

QString fitText(ModelPickerDialog* picker, int row) {
    return picker->models()->data(picker->models()->index(row, ModelListModel::Fit), Qt::DisplayRole).toString();
}
}  // namespace

class ModelPickerPlanTest : public QObject {
    Q_OBJECT
private:
    QString e2b_, e4b_;
    std::unique_ptr<App> app_;

    // A new picker (the last one, closed, is deleted first: the window reuses an open one).
    ModelPickerDialog* openPicker() {
        if (!QTest::qWaitFor([&] { return !app_->window->findChild<ModelPickerDialog*>(); }, kLong)) return nullptr;
        return app_->window->openModelPicker();
    }
    // Gives the open picker `m` and waits for its plans.
    static bool planFor(ModelPickerDialog* picker, const gd::MachineInfo& m) {
        QSignalSpy ready(picker, &ModelPickerDialog::plansReady);
        picker->setMachine(m);
        return ready.wait(kLong) && !picker->planning();
    }

private slots:
    void initTestCase() {
        // Standard model locations point into an empty scratch home: only what a test adds is found.
        const QString home = gd::uitest::scratchDir(QStringLiteral("plan-home"));
        qputenv("HOME", home.toUtf8());
        qputenv("HF_HOME", (home + QStringLiteral("/hf")).toUtf8());
        qputenv("OLLAMA_MODELS", (home + QStringLiteral("/ollama")).toUtf8());
        e2b_ = gd::uitest::tinyModel(QStringLiteral("e2b"));
        e4b_ = gd::uitest::tinyModel(QStringLiteral("e4b"));
        app_ = std::make_unique<App>(gd::uitest::scratchDir(QStringLiteral("picker-plan")));
        app_->settings->setModelFolders({QFileInfo(e2b_).absolutePath(), QFileInfo(e4b_).absolutePath()});
        app_->settings->setDownloadFolder(gd::uitest::scratchDir(QStringLiteral("plan-downloads")));
        app_->settings->setContextLength(2048);  // the plan's context (the tiny models' 4096) differs
        QVERIFY(QTest::qWaitForWindowExposed(app_->window.get()));
    }

    void planLinesSayHowAModelRuns() {
        gd::FitPlan p;
        p.fits = true;
        p.device = gd::PlanDevice::Split;
        p.gpu_layers = 20;
        p.num_layers = 35;
        p.context = 32768;
        p.stored_type = gd::DType::BF16;
        p.weight_type = gd::DType::Q4_K;
        p.load_time_quantization = true;
        QCOMPARE(planLine(p), QStringLiteral("Fits with offload (20 of 35 layers on the GPU) · 32K context · quantized to Q4_K when loaded"));
        p.device = gd::PlanDevice::Gpu;
        p.load_time_quantization = false;
        p.context = 131072;
        QCOMPARE(planLine(p), QStringLiteral("Fits on the GPU · 128K context"));
        p.device = gd::PlanDevice::Cpu;
        p.context = 3000;
        QCOMPARE(planLine(p), QStringLiteral("CPU only · 3000-token context"));
        p.fits = false;
        QCOMPARE(planLine(p), QStringLiteral("Does not fit"));

        // The download dialog's entries for recommended plans.
        p.variant = "e4b";
        p.weight_type = gd::DType::Q4_K;
        QCOMPARE(ModelPickerDialog::offeringFor(p), QStringLiteral("ggml-org/gemma-4-E4B-it-GGUF:Q4_K_M"));
        p.variant = "e2b";
        QCOMPARE(ModelPickerDialog::offeringFor(p), QStringLiteral("unsloth/gemma-4-E2B-it-GGUF:Q4_K_M"));
        p.variant = "31b";
        p.weight_type = gd::DType::Q8_0;
        QCOMPARE(ModelPickerDialog::offeringFor(p), QStringLiteral("ggml-org/gemma-4-31B-it-GGUF:Q8_0"));
        p.variant = "26b-a4b";
        p.weight_type = gd::DType::BF16;
        QCOMPARE(ModelPickerDialog::offeringFor(p), QStringLiteral("google/gemma-4-26B-A4B-it"));
    }

    void eachModelShowsItsPlan() {
        ModelPickerDialog* picker = openPicker();
        QVERIFY(picker);
        QVERIFY(planFor(picker, machine(64 * kGiB, 0)));  // no GPU
        QVERIFY(picker->machine() && picker->machine()->synthetic);
        const int e2b = picker->models()->rowOf({e2b_}), e4b = picker->models()->rowOf({e4b_});
        QVERIFY(e2b >= 0 && e4b >= 0);
        QCOMPARE(fitText(picker, e2b), QStringLiteral("CPU only · 4K context"));
        const gd::FitPlan* plan = picker->models()->planAt(e2b);
        QVERIFY(plan && plan->fits && plan->device == gd::PlanDevice::Cpu && plan->context == 4096);
        const QString tip = picker->models()->data(picker->models()->index(e2b, ModelListModel::Fit), Qt::ToolTipRole).toString();
        for (const char* part : {"text weights", "per-layer embedding table", "KV cache", "audio tower", "runtime", "no CUDA GPU"})
            QVERIFY2(tip.contains(QLatin1String(part)), part);

        // The recommendation: the bigger variant on disk, with the context its plan gets.
        const auto& rec = picker->recommendation();
        QCOMPARE(rec.kind, ModelPickerDialog::Recommendation::Kind::OnDisk);
        QCOMPARE(rec.row, e4b);
        QCOMPARE(rec.plan.variant, std::string("e4b"));
        auto* banner = child<QLabel>(picker, "recommendationText");
        QVERIFY(banner->text().contains(QStringLiteral("Recommended for this machine")));
        QVERIFY(banner->text().contains(QStringLiteral("CPU only · 4K context")));
        QCOMPARE(child<QPushButton>(picker, "recommendationButton")->text(), QStringLiteral("Load recommended"));

        // A GPU with room: every layer on it.
        QVERIFY(planFor(picker, machine(64 * kGiB, 8 * kGiB)));
        QCOMPARE(fitText(picker, picker->models()->rowOf({e2b_})), QStringLiteral("Fits on the GPU · 4K context"));
        QVERIFY(banner->text().contains(QStringLiteral("Fits on the GPU · 4K context")));
        QVERIFY(picker->select({e4b_}));
        const QString details = child<QLabel>(picker, "pickerDetails")->text();
        QVERIFY(details.contains(QStringLiteral("Fits on the GPU")));
        QVERIFY(details.contains(QStringLiteral("On the GPU: text weights")));
        QVERIFY(details.contains(QStringLiteral("In RAM: per-layer embedding table")));
        // A GPU plan loads with every layer on the GPU (the engine's -1), a split with its layers.
        gd::FitPlan split = *picker->models()->planAt(picker->models()->rowOf({e4b_}));
        QCOMPARE(ModelPickerDialog::requestFor(split).gpuLayers, qint64(-1));
        split.device = gd::PlanDevice::Split;
        split.gpu_layers = 3;
        QCOMPARE(ModelPickerDialog::requestFor(split).gpuLayers, qint64(3));
        QCOMPARE(ModelPickerDialog::requestFor(split).context, qint64(4096));
        QVERIFY(QTest::qWaitForWindowExposed(picker));
        gd::uitest::screenshot(picker, QStringLiteral("model-picker-plan"));

        // The filters still work, and the recommendation follows them.
        picker->setAudioOnly(true);
        QVERIFY(child<QWidget>(picker, "audioFilter")->isVisible());
        QCOMPARE(picker->recommendation().kind, ModelPickerDialog::Recommendation::Kind::OnDisk);
        picker->setAudioOnly(false);

        // Too little memory for anything.
        QVERIFY(planFor(picker, machine(1 * kGiB, 0)));
        QCOMPARE(fitText(picker, picker->models()->rowOf({e2b_})), QStringLiteral("Does not fit"));
        QCOMPARE(picker->recommendation().kind, ModelPickerDialog::Recommendation::Kind::None);
        QVERIFY(!child<QPushButton>(picker, "recommendationButton")->isVisible());
        picker->reject();
    }

    void recommendationLoadsWithThePlansContext() {
        ModelPickerDialog* picker = openPicker();
        QVERIFY(picker);
        QVERIFY(planFor(picker, machine(64 * kGiB, 0)));
        const qint64 context = picker->recommendation().plan.context;
        QCOMPARE(context, qint64(4096));
        QSignalSpy chosen(picker, &ModelPickerDialog::modelChosen);
        QSignalSpy loaded(app_->engine.get(), &EngineController::loaded);
        QTest::mouseClick(child<QPushButton>(picker, "recommendationButton"), Qt::LeftButton);
        QCOMPARE(chosen.count(), 1);
        const LoadRequest choice = chosen.front().at(0).value<LoadRequest>();
        QCOMPARE(choice.paths.value(0), e4b_);  // (and its mmproj)
        QCOMPARE(choice.context, context);
        QCOMPARE(choice.gpuLayers, qint64(0));  // a CPU plan: no layer on a GPU
        QCOMPARE(app_->engine->lastLoadRequest().paths.value(0), e4b_);
        QCOMPARE(app_->engine->lastLoadRequest().context, context);  // not the settings' 2048
        QCOMPARE(app_->engine->lastLoadRequest().gpuLayers, qint64(0));
        QVERIFY(loaded.wait(kLong));
        QCOMPARE(loaded.front().at(0).value<ModelInfo>().context, context);
        QCOMPARE(loaded.front().at(0).value<ModelInfo>().variant, QStringLiteral("e4b"));
    }

    void listedModelLoadsWithTheSettingsContext() {
        ModelPickerDialog* picker = openPicker();
        QVERIFY(picker);
        QSignalSpy scanned(picker, &ModelPickerDialog::scanFinished);
        QVERIFY(scanned.wait(kLong));
        QVERIFY(picker->select({e2b_}));
        QSignalSpy loaded(app_->engine.get(), &EngineController::loaded);
        QTest::mouseClick(child<QPushButton>(picker, "loadButton"), Qt::LeftButton);
        QCOMPARE(app_->engine->lastLoadRequest().context, qint64(2048));
        QCOMPARE(app_->engine->lastLoadRequest().gpuLayers, qint64(-1));  // the engine places the layers
        QVERIFY(loaded.wait(kLong));
    }

    void withNoModelItRecommendsADownload() {
        // A picker of its own, on settings with no folders: nothing on disk.
        const QString dir = gd::uitest::scratchDir(QStringLiteral("picker-empty"));
        AppSettings settings(QDir(dir).filePath(QStringLiteral("settings.ini")));
        settings.setDownloadFolder(QDir(dir).filePath(QStringLiteral("downloads")));
        ModelPickerDialog picker(settings, {});
        QVERIFY(planFor(&picker, machine(512 * kGiB, 0)));
        QCOMPARE(picker.models()->rowCount(), 0);
        // Each machine gets what the planner puts first for it among the published variants, with
        // the download dialog's entry for it.
        for (const gd::MachineInfo& m : {machine(512 * kGiB, 0), machine(12 * kGiB, 6 * kGiB), machine(64 * kGiB, 24 * kGiB)}) {
            QVERIFY(planFor(&picker, m));
            QCOMPARE(picker.models()->rowCount(), 0);
            const std::vector<gd::FitPlan> plans = gd::plan_fit(gd::recommended_candidates(), m, gd::PlanRequest{});
            QVERIFY(!plans.empty() && plans.front().fits);
            const auto& rec = picker.recommendation();
            QCOMPARE(rec.kind, ModelPickerDialog::Recommendation::Kind::Download);
            QCOMPARE(rec.plan.model, plans.front().model);
            QVERIFY(!rec.offeringId.isEmpty());
            QCOMPARE(rec.offeringId, ModelPickerDialog::offeringFor(plans.front()));
            const QString expected = QStringLiteral("Gemma 4 %1 in %2 — %3")
                                         .arg(QString::fromStdString(rec.plan.variant).toUpper(),
                                              planTypeText(rec.plan.weight_type), planLine(rec.plan));
            QVERIFY2(child<QLabel>(&picker, "recommendationText")->text().contains(expected), qPrintable(expected));
            QCOMPARE(child<QPushButton>(&picker, "recommendationButton")->text(), QStringLiteral("Download…"));
        }

        // Only the models that hear, with the audio filter.
        picker.setAudioOnly(true);
        const std::string v = picker.recommendation().plan.variant;
        QVERIFY2(v == "e2b" || v == "e4b", v.c_str());
    }

    void cleanupTestCase() { app_.reset(); }
};

QTEST_MAIN(ModelPickerPlanTest)
#include "tst_model_picker_plan.moc"
