#include "download/hub_listing_job.h"

#include "download/hub_client.h"
#include "download/hub_get.h"

namespace gd::ui {
namespace {
// A Gemma repository has a few dozen files; this only stops a misbehaving server's endless paging.
constexpr int kMaxPages = 100;
}  // namespace

HubListingJob::HubListingJob(HubClient* client, const QString& repo, QObject* parent)
    : QObject(parent), client_(client), repo_(repo) {}

HubListingJob::~HubListingJob() {
    abort();
}

void HubListingJob::start() {
    files_.clear();
    pages_ = 0;
    fetch(client_->treeUrl(repo_));
}

void HubListingJob::abort() {
    if (get_) {
        get_->abort();
        get_->deleteLater();
    }
}

void HubListingJob::fetch(const QUrl& url) {
    get_ = new HubGet(client_, url, std::nullopt, this);
    connect(get_, &HubGet::finished, this, &HubListingJob::onFinished);
    get_->start();
}

void HubListingJob::onFinished() {
    HubGet* get = get_;
    get_ = nullptr;
    get->deleteLater();
    const int status = get->httpStatus();
    if (get->error() != QNetworkReply::NoError || status != 200) {
        emit failed(classifyHttpFailure(get->error(), status, client_->host(), repo_, true));
        return;
    }
    const auto page = parseTreeListing(get->readAll());
    if (!page) {
        emit failed({DownloadMessages::badListing(client_->host()), false});
        return;
    }
    files_.append(*page);
    const QUrl next = nextPageUrl(get->header("Link"), get->url());
    if (next.isValid() && !next.isEmpty() && ++pages_ < kMaxPages) {
        fetch(next);
        return;
    }
    emit listed(files_);
}

}  // namespace gd::ui
