/** Choices of a filter select: `[value, label]`; the value `""` means "no filter". */
export type Options = readonly (readonly [value: string, label: string])[];

/** One labelled select of the filter; `""` is "no filter". */
export function FilterSelect(props: { id: string; name: string; label: string; value: string | undefined; options: Options }) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        {props.options.map(([value, label]) => (
          <option value={value} selected={(props.value ?? "") === value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}
