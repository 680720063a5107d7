#include "download/hub_listing_job.h"

#include "download/hub_client.h"
#include "download/hub_get.h"

namespace gd::ui {
namespace {
// A Gemma repository has a few dozen files; this only stops a misbehaving server's endless paging.
constexpr int kMaxPages = 100;
}

HubListingJob::HubListingJob(HubClient* client, const QString& repo, QObject* parent)
    : QObject(parent), m_client(client), m_repo(repo) {}

HubListingJob::~HubListingJob() { abort(); }

void HubListingJob::start() {
  m_files.clear();
  m_pages = 0;
  fetch(m_client->treeUrl(m_repo));
}

void HubListingJob::abort() {
  if (m_get) {
    m_get->abort();
    m_get->deleteLater();
  }
}

void HubListingJob::fetch(const QUrl& url) {
  m_get = new HubGet(m_client, url, std::nullopt, this);
  connect(m_get, &HubGet::finished, this, &HubListingJob::onFinished);
  m_get->start();
}

void HubListingJob::onFinished() {
  HubGet* get = m_get;
  m_get = nullptr;
  get->deleteLater();
  const int status = get->httpStatus();
  if (get->error() != QNetworkReply::NoError || status != 200) {
    emit failed(classifyHttpFailure(get->error(), status, m_client->host(), m_repo, true));
    return;
  }
  const auto page = parseTreeListing(get->readAll());
  if (!page) {
    emit failed({DownloadMessages::badListing(m_client->host()), false});
    return;
  }
  m_files.append(*page);
  const QUrl next = nextPageUrl(get->header("Link"), get->url());
  if (next.isValid() && !next.isEmpty() && ++m_pages < kMaxPages) {
    fetch(next);
    return;
  }
  emit listed(m_files);
}

}  // namespace gd::ui
