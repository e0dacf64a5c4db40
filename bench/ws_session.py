"""A browser-like Streamlit session over the server's websocket, speaking its protobuf protocol
(log in through the form, then open pages by URL path and query string): what the load tests
(tests/test_concurrency.py, tests/test_server.py) and the viewers benchmark (bench/viewers.py) drive."""

from __future__ import annotations

import socket

HANG_SECONDS = 600  # a hang guard only


class Session:
    """One browser-like Streamlit session over the server's websocket (protobuf messages)."""

    def __init__(self, port: int):
        import websocket

        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                              origin=f"http://127.0.0.1:{port}", timeout=HANG_SECONDS)

    def run(self, page: str = "", query: str = "", widgets=()) -> tuple[int, list]:
        """Ask for a script run; returns (finish status, elements) once it has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        message.rerun_script.query_string = query
        message.rerun_script.page_name = page
        message.rerun_script.widget_states.widgets.extend(widgets)
        self.ws.send_binary(message.SerializeToString())
        elements = []
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv())
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                elements.append((element.WhichOneof("type"), getattr(element, element.WhichOneof("type"))))
            elif kind == "script_finished":
                return forward.script_finished, elements

    def finish_rerun(self) -> int:
        """After st.rerun() the server runs the script again by itself: wait for that run."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv())
            if forward.WhichOneof("type") == "script_finished":
                return forward.script_finished

    def login(self, username: str, password: str) -> None:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        status, elements = self.run("", "tinh=40")
        ids = {e.label: e.id for kind, e in elements if kind in ("text_input", "button")}
        status, _ = self.run("", "tinh=40", [
            WidgetState(id=ids["Tên đăng nhập"], string_value=username),
            WidgetState(id=ids["Mật khẩu"], string_value=password),
            WidgetState(id=ids["Đăng nhập"], trigger_value=True)])
        if status == 2:  # FINISHED_EARLY_FOR_RERUN: logged in, st.rerun()
            status = self.finish_rerun()
        assert status == 0, status

    def close(self) -> None:
        self.ws.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
