"""ovz.set_log_handler: what the library goes on past reaches Python. CTIDs 13220-13229."""

import logging
import os
import threading

import pytest

import ovz

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="creates real VEs: needs root (run the suite as root)"
)


def test_a_handler_is_a_callable_or_none():
    with pytest.raises(TypeError):
        ovz.set_log_handler(5)
    ovz.set_log_handler(None)


@needs_root
def test_a_failed_clean_up_reaches_the_handler_from_the_thread_that_met_it(root, monkeypatch):
    ve = ovz.VE(13220, root)
    ve.create()
    got = []
    ovz.set_log_handler(lambda level, message: got.append((level, message, threading.get_ident())))
    try:
        monkeypatch.setenv("OVZ_TEST_FAULT", "clean-up:fail")
        errors = []

        def start():  # a thread of its own, running the library without the GIL
            try:
                ve.run(["/no/such/init"])
            except ovz.Error as e:
                errors.append(e)

        t = threading.Thread(target=start)
        t.start()
        t.join(timeout=120)
        monkeypatch.delenv("OVZ_TEST_FAULT")
    finally:
        ovz.set_log_handler(None)
    assert len(errors) == 1 and "/no/such/init" in str(errors[0])
    assert len(got) == 1
    level, message, thread = got[0]
    assert level == logging.WARNING
    assert message.startswith("VE 13220: clean-up after the failed start: clean up")
    assert thread == t.ident
    with pytest.raises(ovz.NotRunning):
        ve.stop()  # takes away what the refused clean-up left
