#include "download/hub_get.h"

#include "download/hub_client.h"

#include <QNetworkRequest>

namespace gd::ui {
namespace {
constexpr int kMaxRedirects = 10;
}

HubGet::HubGet(HubClient* client, const QUrl& url, std::optional<quint64> rangeStart, QObject* parent)
    : QObject(parent), m_client(client), m_url(url), m_rangeStart(rangeStart) {}

HubGet::~HubGet() { detach(); }

void HubGet::start() { send(); }

void HubGet::abort() { detach(); }

QByteArray HubGet::header(const QByteArray& name) const {
  return m_reply ? m_reply->rawHeader(name) : QByteArray();
}

QByteArray HubGet::readAll() { return m_reply && m_announced ? m_reply->readAll() : QByteArray(); }

void HubGet::send() {
  m_status = 0;
  m_announced = false;
  m_reply = m_client->get(m_url, m_rangeStart);
  connect(m_reply, &QNetworkReply::metaDataChanged, this, &HubGet::onMetaData);
  connect(m_reply, &QNetworkReply::readyRead, this, &HubGet::onReadyRead);
  connect(m_reply, &QNetworkReply::finished, this, &HubGet::onFinished);
}

bool HubGet::isRedirect() const {
  const bool redirectStatus = m_status == 301 || m_status == 302 || m_status == 303 ||
                              m_status == 307 || m_status == 308;
  return redirectStatus && m_reply && !m_reply->rawHeader("Location").isEmpty();
}

void HubGet::onMetaData() {
  m_status = m_reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (!isRedirect()) announce();
}

void HubGet::announce() {
  if (m_announced || m_status == 0) return;
  m_announced = true;
  emit responseStarted(m_status);
}

void HubGet::onReadyRead() {
  if (!m_reply) return;
  if (m_status == 0) onMetaData();
  if (isRedirect()) {
    m_reply->readAll();  // the redirect's own body means nothing
    return;
  }
  if (m_announced) emit readyRead();
}

void HubGet::onFinished() {
  QNetworkReply* reply = m_reply;
  if (!reply) return;
  if (m_status == 0) m_status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
  if (isRedirect()) {
    const QUrl next = reply->url().resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
    detach();
    if (++m_hops > kMaxRedirects) {
      m_error = QNetworkReply::TooManyRedirectsError;
      emit finished();
      return;
    }
    if (m_url.scheme() == QLatin1String("https") && next.scheme() != QLatin1String("https")) {
      m_error = QNetworkReply::InsecureRedirectError;
      emit finished();
      return;
    }
    m_url = next;
    send();
    return;
  }
  announce();
  m_error = reply->error();
  // An HTTP error status is reported through httpStatus(); only transport errors count here.
  if (m_status >= 400) m_error = QNetworkReply::NoError;
  emit finished();
}

void HubGet::detach() {
  if (!m_reply) return;
  QNetworkReply* reply = m_reply;
  m_reply = nullptr;
  reply->disconnect(this);
  if (reply->isRunning()) reply->abort();
  reply->deleteLater();
}

}  // namespace gd::ui
