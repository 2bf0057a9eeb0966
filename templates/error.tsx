import { Layout } from "./layout.tsx";

/** Inline error, swapped into the status region or next to the form that failed. */
export function ErrorFragment(props: { message: string }) {
  return (
    <div class="alert error" role="alert">
      {props.message}
    </div>
  );
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Sign-in required",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Too large",
  422: "Cannot use this",
  429: "Too many attempts",
};

export function ErrorPage(props: { status: number; message: string }) {
  const title = TITLES[props.status] ?? "Something went wrong";
  return (
    <Layout title={title}>
      <section class="card">
        <h1>{title}</h1>
        <ErrorFragment message={props.message} />
        <p>
          <a href="/">Back to the start page</a>
        </p>
      </section>
    </Layout>
  );
}
