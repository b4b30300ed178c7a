# --- Start: check the backends' state the patches use, then serve as `moto.server` ----------------
if __name__ == "__main__":
    from moto.server import main

    _check_state()
    print(f"moto_patches: moto {moto.__version__}, every patch fits", file=sys.stderr, flush=True)
    main(sys.argv[1:])
