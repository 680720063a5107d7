#pragma once
// The models found on disk as a table for the picker: name, variant, quantization, inputs, size,
// the fit planner's plan for this machine (fits on the GPU / with offload / CPU only / does not fit,
// the context it gets; the reasons and the memory table as a tooltip) and where it came from.
// Unusable entries stay listed, greyed, with the reason in plain words.
#include <QAbstractTableModel>
#include <optional>
#include <vector>
#include "catalog/fit_plan.h"
#include "catalog/model_discovery.h"

namespace gd::ui {

class ModelListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Variant, Quantization, Inputs, Size, Fit, Source, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setModels(std::vector<gd::DiscoveredModel> models);
    const gd::DiscoveredModel* at(int row) const;
    // The plan of each row (same order as the models; nullopt: the model could not be planned),
    // or, while `planning`, none yet: the Fit column then says it is being worked out.
    void setPlans(std::vector<std::optional<gd::FitPlan>> plans);
    void setPlanning(bool planning);
    const gd::FitPlan* planAt(int row) const;
    int rowOf(const QStringList& loadPaths) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    static QString formatBytes(quint64 bytes);
    static QString inputsText(const gd::DiscoveredModel& m);

private:
    std::vector<gd::DiscoveredModel> models_;
    std::vector<std::optional<gd::FitPlan>> plans_;
    bool planning_ = false;
};

}  // namespace gd::ui
