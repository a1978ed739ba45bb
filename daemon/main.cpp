// volleyd entry point: being written in this session (see issue 2).
int main() { return 0; }
