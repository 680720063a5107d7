#pragma once
// The models found on disk as a table for the picker: name, variant, quantization, inputs, size,
// whether it fits this machine and where it came from. Unusable entries stay listed, greyed, with
// the reason in plain words.
#include <QAbstractTableModel>
#include <vector>
#include "catalog/model_discovery.h"

namespace gd::ui {

class ModelListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Name, Variant, Quantization, Inputs, Size, Fit, Source, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setModels(std::vector<gd::DiscoveredModel> models);
    const gd::DiscoveredModel* at(int row) const;
    int rowOf(const QStringList& loadPaths) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    static QString formatBytes(quint64 bytes);
    static QString inputsText(const gd::DiscoveredModel& m);

private:
    std::vector<gd::DiscoveredModel> models_;
};

}  // namespace gd::ui
