#include "models/model_list_model.h"

#include <QBrush>
#include <QColor>
#include <QFileInfo>
#include <QStringList>
#include "models/plan_text.h"

namespace gd::ui {

QString ModelListModel::formatBytes(quint64 bytes) {
    if (bytes >= 1000ull * 1000 * 1000) return tr("%1 GB").arg(double(bytes) / 1e9, 0, 'f', 1);
    if (bytes >= 1000ull * 1000) return tr("%1 MB").arg(double(bytes) / 1e6, 0, 'f', 1);
    return tr("%1 KB").arg(double(bytes) / 1e3, 0, 'f', 0);
}

QString ModelListModel::inputsText(const gd::DiscoveredModel& m) {
    QStringList parts{tr("text")};
    if (m.has_vision) parts << tr("image");
    if (m.has_audio) parts << tr("audio");
    return parts.join(QStringLiteral(" · "));
}

void ModelListModel::setModels(std::vector<gd::DiscoveredModel> models) {
    beginResetModel();
    models_ = std::move(models);
    plans_.clear();
    endResetModel();
}

void ModelListModel::setPlans(std::vector<std::optional<gd::FitPlan>> plans) {
    plans_ = std::move(plans);
    planning_ = false;
    if (!models_.empty()) emit dataChanged(index(0, Fit), index(int(models_.size()) - 1, Fit));
}

void ModelListModel::setPlanning(bool planning) {
    planning_ = planning;
    if (!models_.empty()) emit dataChanged(index(0, Fit), index(int(models_.size()) - 1, Fit));
}

const gd::FitPlan* ModelListModel::planAt(int row) const {
    if (row < 0 || size_t(row) >= plans_.size() || !plans_[size_t(row)]) return nullptr;
    return &*plans_[size_t(row)];
}

const gd::DiscoveredModel* ModelListModel::at(int row) const {
    return row >= 0 && size_t(row) < models_.size() ? &models_[size_t(row)] : nullptr;
}

int ModelListModel::rowOf(const QStringList& loadPaths) const {
    // The first path names the model (a GGUF's mmproj is found beside it); compare canonical paths so
    // a symlinked or relative spelling still matches.
    if (loadPaths.isEmpty()) return -1;
    auto canonical = [](const QString& p) {
        const QString c = QFileInfo(p).canonicalFilePath();
        return c.isEmpty() ? QFileInfo(p).absoluteFilePath() : c;
    };
    const QString wanted = canonical(loadPaths.front());
    for (size_t i = 0; i < models_.size(); ++i)
        if (!models_[i].load_paths.empty() && canonical(QString::fromStdString(models_[i].load_paths.front())) == wanted)
            return int(i);
    return -1;
}

int ModelListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(models_.size()); }
int ModelListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ModelListModel::data(const QModelIndex& index, int role) const {
    const gd::DiscoveredModel* m = at(index.row());
    if (!m) return {};
    const bool usable = m->error.empty();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Name: return QString::fromStdString(m->name);
        case Variant:
            return m->tiny_test_model ? tr("%1 (tiny test)").arg(QString::fromStdString(m->variant))
                                      : QString::fromStdString(m->variant);
        case Quantization: return QString::fromStdString(m->quantization);
        case Inputs: return usable ? inputsText(*m) : QString();
        case Size: return formatBytes(m->disk_bytes);
        case Fit:
            if (!usable) return QString::fromStdString(m->error);
            if (const gd::FitPlan* p = planAt(index.row())) return planLine(*p);
            if (planning_) return tr("Working out what fits…");
            return QString::fromStdString(m->fit.summary);
        case Source: return QString::fromStdString(m->source);
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == Fit && usable)
            if (const gd::FitPlan* p = planAt(index.row())) return planToolTip(*p);
        QStringList paths;
        for (const std::string& p : m->load_paths) paths << QString::fromStdString(p);
        QString tip = paths.join(QLatin1Char('\n'));
        if (!usable) tip += QStringLiteral("\n\n") + QString::fromStdString(m->error);
        return tip;
    }
    if (role == Qt::ForegroundRole) {
        if (!usable) return QBrush(QColor(0x99, 0x99, 0x99));
        if (index.column() == Fit && planAt(index.row())) {
            const gd::FitPlan& p = *planAt(index.row());
            if (!p.fits) return QBrush(QColor(0xc0, 0x39, 0x2b));
            if (p.device == gd::PlanDevice::Gpu) return QBrush(QColor(0x1e, 0x7e, 0x34));
            return QBrush(QColor(0xb2, 0x6a, 0x00));  // offload or CPU only: runs, slower
        }
        if (index.column() == Fit && planning_) return QBrush(QColor(0x99, 0x99, 0x99));
        if (index.column() == Fit) {
            switch (m->fit.verdict) {
            case gd::FitEstimate::Verdict::Fits: return QBrush(QColor(0x1e, 0x7e, 0x34));
            case gd::FitEstimate::Verdict::Tight: return QBrush(QColor(0xb2, 0x6a, 0x00));
            case gd::FitEstimate::Verdict::TooLarge: return QBrush(QColor(0xc0, 0x39, 0x2b));
            }
        }
    }
    if (role == Qt::UserRole) return usable;
    return {};
}

QVariant ModelListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Name: return tr("Model");
    case Variant: return tr("Variant");
    case Quantization: return tr("Weights");
    case Inputs: return tr("Inputs");
    case Size: return tr("On disk");
    case Fit: return tr("This machine");
    case Source: return tr("Found in");
    }
    return {};
}

}  // namespace gd::ui
