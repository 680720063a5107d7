#include "download/hub_client.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace gd::ui {
namespace {

QUrl defaultEndpoint() {
    const QString env = qEnvironmentVariable("HF_ENDPOINT").trimmed();
    QUrl url(env.isEmpty() ? QStringLiteral("https://huggingface.co") : env);
    if (!url.isValid() || url.scheme().isEmpty()) url = QUrl(QStringLiteral("https://huggingface.co"));
    return url;
}

bool sameOrigin(const QUrl& a, const QUrl& b) {
    return a.scheme() == b.scheme() && a.host().compare(b.host(), Qt::CaseInsensitive) == 0 &&
           a.port(a.scheme() == QLatin1String("https") ? 443 : 80) ==
               b.port(b.scheme() == QLatin1String("https") ? 443 : 80);
}

// Repository ids and paths go into the URL path one segment at a time, so a name with '#', '?'
// or spaces cannot change the URL's meaning.
QString encodedSegments(const QString& path) {
    QStringList parts;
    for (const QString& s : path.split(QLatin1Char('/')))
        parts.append(QString::fromLatin1(QUrl::toPercentEncoding(s)));
    return parts.join(QLatin1Char('/'));
}

QUrl appendPath(QUrl base, const QString& encodedTail) {
    QString path = base.path(QUrl::FullyEncoded);
    if (!path.endsWith(QLatin1Char('/'))) path += QLatin1Char('/');
    base.setPath(path + encodedTail, QUrl::TolerantMode);
    return base;
}

}  // namespace

HubClient::HubClient(QObject* parent)
    : QObject(parent), endpoint_(defaultEndpoint()), token_(qEnvironmentVariable("HF_TOKEN").trimmed()) {}

HubClient::~HubClient() = default;

void HubClient::setEndpoint(const QUrl& endpoint) {
    endpoint_ = endpoint;
}

QString HubClient::host() const {
    return endpoint_.port() > 0 ? endpoint_.host() + QLatin1Char(':') + QString::number(endpoint_.port())
                                : endpoint_.host();
}

QUrl HubClient::treeUrl(const QString& repo) const {
    QUrl url = appendPath(endpoint_, QStringLiteral("api/models/%1/tree/main").arg(encodedSegments(repo)));
    url.setQuery(QStringLiteral("recursive=true"));
    return url;
}

QUrl HubClient::fileUrl(const QString& repo, const QString& path) const {
    return appendPath(endpoint_,
                      QStringLiteral("%1/resolve/main/%2").arg(encodedSegments(repo), encodedSegments(path)));
}

QNetworkReply* HubClient::get(const QUrl& url, std::optional<quint64> rangeStart) {
    QNetworkRequest request(url);
    // Qt's own redirect handling would forward every header, the token included, to whatever host
    // the hub redirects to; HubGet follows redirects itself instead.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setHeader(QNetworkRequest::UserAgentHeader, QStringLiteral("GemmaDesk/0.1"));
    // Byte ranges and hashes refer to the stored bytes: no transparent gzip.
    request.setRawHeader("Accept-Encoding", "identity");
    // A stalled connection (no bytes for a minute) becomes an error the retry logic sees.
    request.setTransferTimeout(60 * 1000);
    if (rangeStart) request.setRawHeader("Range", "bytes=" + QByteArray::number(*rangeStart) + '-');
    if (!token_.isEmpty() && sameOrigin(url, endpoint_))
        request.setRawHeader("Authorization", "Bearer " + token_.toUtf8());
    return network()->get(request);
}

QNetworkAccessManager* HubClient::network() {
    if (!network_) network_ = new QNetworkAccessManager(this);
    return network_;
}

}  // namespace gd::ui
