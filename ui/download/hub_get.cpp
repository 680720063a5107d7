#include "download/hub_get.h"

#include "download/hub_client.h"

#include <QNetworkRequest>

namespace gd::ui {
namespace {
constexpr int kMaxRedirects = 10;
}

HubGet::HubGet(HubClient* client, const QUrl& url, std::optional<quint64> rangeStart, QObject* parent)
    : QObject(parent), client_(client), url_(url), rangeStart_(rangeStart) {}

HubGet::~HubGet() {
    detach();
}

void HubGet::start() {
    send();
}

void HubGet::abort() {
    detach();
}

QByteArray HubGet::header(const QByteArray& name) const {
    return reply_ ? reply_->rawHeader(name) : QByteArray();
}

QByteArray HubGet::readAll() {
    return reply_ && announced_ ? reply_->readAll() : QByteArray();
}

void HubGet::send() {
    status_ = 0;
    announced_ = false;
    reply_ = client_->get(url_, rangeStart_);
    connect(reply_, &QNetworkReply::metaDataChanged, this, &HubGet::onMetaData);
    connect(reply_, &QNetworkReply::readyRead, this, &HubGet::onReadyRead);
    connect(reply_, &QNetworkReply::finished, this, &HubGet::onFinished);
}

bool HubGet::isRedirect() const {
    const bool redirectStatus =
        status_ == 301 || status_ == 302 || status_ == 303 || status_ == 307 || status_ == 308;
    return redirectStatus && reply_ && !reply_->rawHeader("Location").isEmpty();
}

void HubGet::onMetaData() {
    status_ = reply_->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (!isRedirect()) announce();
}

void HubGet::announce() {
    if (announced_ || status_ == 0) return;
    announced_ = true;
    emit responseStarted(status_);
}

void HubGet::onReadyRead() {
    if (!reply_) return;
    if (status_ == 0) onMetaData();
    if (isRedirect()) {
        reply_->readAll();  // the redirect's own body means nothing
        return;
    }
    if (announced_) emit readyRead();
}

void HubGet::onFinished() {
    QNetworkReply* reply = reply_;
    if (!reply) return;
    if (status_ == 0) status_ = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (isRedirect()) {
        const QUrl next = reply->url().resolved(QUrl::fromEncoded(reply->rawHeader("Location")));
        detach();
        if (++hops_ > kMaxRedirects) {
            error_ = QNetworkReply::TooManyRedirectsError;
            emit finished();
            return;
        }
        if (url_.scheme() == QLatin1String("https") && next.scheme() != QLatin1String("https")) {
            error_ = QNetworkReply::InsecureRedirectError;
            emit finished();
            return;
        }
        url_ = next;
        send();
        return;
    }
    announce();
    error_ = reply->error();
    // An HTTP error status is reported through httpStatus(); only transport errors count here.
    if (status_ >= 400) error_ = QNetworkReply::NoError;
    emit finished();
}

void HubGet::detach() {
    if (!reply_) return;
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->disconnect(this);
    if (reply->isRunning()) reply->abort();
    reply->deleteLater();
}

}  // namespace gd::ui
