from django.core.mail import send_mail


def test_mail_goes_through_the_real_server(smtp_server):
    send_mail("件名", "本文です", "a@example.jp", ["b@example.jp"])
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "件名"
    assert "本文です" in message.get_content()
    assert smtp_server.received[0].rcpt_tos == ["b@example.jp"]
