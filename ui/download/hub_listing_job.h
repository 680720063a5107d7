#pragma once
// Fetches a repository's complete file listing (all pages) from the hub.

#include "download/download_messages.h"
#include "download/hub_listing.h"

#include <QObject>
#include <QPointer>

namespace gd::ui {

class HubClient;
class HubGet;

class HubListingJob : public QObject {
    Q_OBJECT
public:
    HubListingJob(HubClient* client, const QString& repo, QObject* parent = nullptr);
    ~HubListingJob() override;

    void start();
    void abort();
    QString repo() const { return repo_; }

signals:
    void listed(const QList<gd::ui::HubFile>& files);
    void failed(const gd::ui::HttpFailure& failure);

private:
    void fetch(const QUrl& url);
    void onFinished();

    HubClient* client_;
    QString repo_;
    QPointer<HubGet> get_;
    QList<HubFile> files_;
    int pages_ = 0;
};

}  // namespace gd::ui
