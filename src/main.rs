fn main() {
    std::process::exit(ruxue::cli::main());
}
