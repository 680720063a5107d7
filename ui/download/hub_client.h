#pragma once
// Where the hub is and how to ask it for things. The QNetworkAccessManager is created on the first
// request, so a user who never downloads never touches the network stack at all.

#include <QObject>
#include <QString>
#include <QUrl>

#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace gd::ui {

class HubClient : public QObject {
    Q_OBJECT
public:
    // Reads HF_ENDPOINT (default https://huggingface.co; tests point it at loopback) and HF_TOKEN.
    explicit HubClient(QObject* parent = nullptr);
    ~HubClient() override;

    QUrl endpoint() const { return endpoint_; }
    void setEndpoint(const QUrl& endpoint);
    // The host name the user knows ("huggingface.co"), for messages.
    QString host() const;

    QString token() const { return token_; }
    void setToken(const QString& token) { token_ = token.trimmed(); }

    QUrl treeUrl(const QString& repo) const;
    QUrl fileUrl(const QString& repo, const QString& path) const;

    // One GET, with `Range: bytes=N-` when rangeStart is set. Redirects are left to HubGet, which
    // keeps the Range and sends the token only to the hub itself (never to the CDN it redirects to).
    QNetworkReply* get(const QUrl& url, std::optional<quint64> rangeStart);

    // False until the first request: nothing network-related exists before then.
    bool networkCreated() const { return network_ != nullptr; }

private:
    QNetworkAccessManager* network();

    QUrl endpoint_;
    QString token_;
    QNetworkAccessManager* network_ = nullptr;
};

}  // namespace gd::ui
