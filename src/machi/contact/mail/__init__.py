"""The contact center's mail channel: parse a received RFC 5322 message
(:mod:`.parse`), find its ticket (:mod:`.thread`), receive it as a ticket message or
quarantine it (:mod:`.receive`, :mod:`.quarantine`), and send replies (:mod:`.send`)."""
